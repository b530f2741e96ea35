from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "apps.finance"
    label = "finance"
    verbose_name = "Finance: ledger, AFEs and costs"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("AFEs", "finance:afe-list", "finance.afe"))
        register_nav(NavItem("Costs", "finance:costentry-list", "finance.costentry"))
        register_nav(NavItem("Journal", "finance:journalentry-list", "finance.journalentry"))
        register_nav(NavItem("Purchase orders", "finance:purchaseorder-list", "finance.purchaseorder"))
