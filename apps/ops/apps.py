from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations: backup, updates, metrics"

    def ready(self):
        from apps.ops import metrics  # noqa: F401  (registers the Prometheus series)
