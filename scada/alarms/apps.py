from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "scada.alarms"
    label = "alarms"
    verbose_name = "SCADA alarms (ISA-18.2)"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("Alarms", "alarms:summary", "alarms.alarm"))

        from apps.core.demo import DEMO_LOADERS
        from scada.alarms.demo import seed_alarms

        if seed_alarms not in DEMO_LOADERS:
            DEMO_LOADERS.append(seed_alarms)

        from scada.alarms.gateway_hook import hook
        from scada.runtime.gateway import add_sample_hook

        add_sample_hook(hook)  # the alarm engine runs on every sample batch the gateway publishes
