from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "scada.ingest"
    label = "ingest"
    verbose_name = "SCADA ingest (HTTP) and dead letters"

    def ready(self):
        from scada.drivers import register_driver

        register_driver("http_ingest", "scada.ingest.driver.HttpIngestDriver")
