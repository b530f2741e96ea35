from django.apps import AppConfig


class InterventionConfig(AppConfig):
    name = "apps.intervention"
    label = "intervention"
