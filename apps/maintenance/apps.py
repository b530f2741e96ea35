from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "apps.maintenance"
    label = "maintenance"
    verbose_name = "Maintenance"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("Work orders", "maintenance:workorder-list", "maintenance.workorder"))
        register_nav(NavItem("Equipment", "maintenance:equipment-list", "maintenance.equipment"))
        register_nav(NavItem("PM plans", "maintenance:preventiveplan-list", "maintenance.preventiveplan"))
        register_nav(NavItem("Reliability", "maintenance:reliability", "maintenance.workorder"))

        from apps.core.demo import DEMO_LOADERS
        from apps.maintenance.demo import seed_erp

        if seed_erp not in DEMO_LOADERS:
            DEMO_LOADERS.append(seed_erp)
