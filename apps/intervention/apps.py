from django.apps import AppConfig


class InterventionConfig(AppConfig):
    name = "apps.intervention"
    label = "intervention"
    verbose_name = "Well intervention"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("Interventions", "intervention:interventionjob-list", "intervention.interventionjob"))
        register_nav(NavItem("Toolstrings", "intervention:toolstring-list", "intervention.toolstring"))
