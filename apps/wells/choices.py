from django.db import models


class SiteKind(models.TextChoices):
    PAD = "pad", "Well pad"
    PLATFORM = "platform", "Platform"
    STATION = "station", "Gathering / compression station"
    RIG_SITE = "rig_site", "Rig site"


class WellType(models.TextChoices):
    PRODUCER = "producer", "Producer"
    INJECTOR = "injector", "Injector"
    DISPOSAL = "disposal", "Disposal"
    OBSERVATION = "observation", "Observation"


class WellStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DRILLING = "drilling", "Drilling"
    COMPLETING = "completing", "Completing"
    PRODUCING = "producing", "Producing"
    INJECTING = "injecting", "Injecting"
    SHUT_IN = "shut_in", "Shut in"
    SUSPENDED = "suspended", "Suspended"
    ABANDONED = "abandoned", "Plugged and abandoned"
