"""Drilling. ``Rig`` is the core other apps link to (crews, costs); the drilling issue adds DDRs, time logs, bit and
BHA records and mud on top of it."""

from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope


class Rig(BaseModel):
    """A drilling or workover rig, currently at a site (its scope follows the site)."""

    name = models.CharField(max_length=80, unique=True)
    contractor = models.CharField(max_length=120, blank=True)
    rig_type = models.CharField(max_length=40, blank=True, help_text="e.g. land, jack-up, workover.")
    site = models.ForeignKey("wells.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="rigs")

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.SUPERVISOR_WRITES

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
