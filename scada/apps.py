from django.apps import AppConfig


class ScadaConfig(AppConfig):
    name = "scada"
    label = "scada"
    verbose_name = "SCADA"

    def ready(self):
        from apps.core.demo import DEMO_LOADERS
        from scada import checks  # noqa: F401  (registers the system checks)
        from scada.demo import seed_scada

        if seed_scada not in DEMO_LOADERS:
            DEMO_LOADERS.append(seed_scada)
        try:
            from apps.sync import telemetry
        except ImportError:
            return
        from scada import historian

        telemetry.register_stream("scada.samples", read=historian.read_after, write=historian.store_remote)
