from django.apps import AppConfig


class WellsConfig(AppConfig):
    name = "apps.wells"
    label = "wells"
    verbose_name = "Wells, fields and sites"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("Fields", "wells:field-list", "wells.field"))
        register_nav(NavItem("Sites", "wells:site-list", "wells.site"))
        register_nav(NavItem("Wells", "wells:well-list", "wells.well"))

        from apps.core.demo import DEMO_LOADERS
        from apps.wells.demo import seed_operations

        if seed_operations not in DEMO_LOADERS:
            DEMO_LOADERS.append(seed_operations)
