from django.apps import AppConfig


class ScadaConfig(AppConfig):
    name = "scada"
    label = "scada"
    verbose_name = "SCADA"
