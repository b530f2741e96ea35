from django.apps import AppConfig


class HmiConfig(AppConfig):
    name = "scada.hmi"
    label = "hmi"
    verbose_name = "HMI displays and the live stream"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav
        from scada.hmi.publisher import publisher
        from scada.runtime.gateway import add_sample_hook

        register_nav(NavItem("HMI", "hmi:overview", "scada.tag"))
        register_nav(NavItem("Trends", "hmi:trend", "scada.tag"))
        add_sample_hook(publisher)
