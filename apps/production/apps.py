from django.apps import AppConfig


class ProductionConfig(AppConfig):
    name = "apps.production"
    label = "production"
    verbose_name = "Production"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav
        from apps.production import signals

        signals.connect()
        register_nav(NavItem("Production", "production:dailywellproduction-list", "production.dailywellproduction"))
