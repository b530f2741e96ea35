from django.apps import AppConfig


class DrillingConfig(AppConfig):
    name = "apps.drilling"
    label = "drilling"
    verbose_name = "Drilling"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("DDRs", "drilling:drillingreport-list", "drilling.drillingreport"))
