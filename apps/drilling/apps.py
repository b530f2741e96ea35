from django.apps import AppConfig


class DrillingConfig(AppConfig):
    name = "apps.drilling"
    label = "drilling"
