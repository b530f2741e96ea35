from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    label = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("Stock", "inventory:stockbalance-list", "inventory.stockbalance"))
        register_nav(NavItem("Stock moves", "inventory:stockmove-list", "inventory.stockmove"))
        register_nav(NavItem("Items", "inventory:item-list", "inventory.item"))
