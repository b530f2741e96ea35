from django.db import models


class SiteKind(models.TextChoices):
    PAD = "pad", "Well pad"
    PLATFORM = "platform", "Platform"
    STATION = "station", "Gathering / compression station"
    RIG_SITE = "rig_site", "Rig site"
