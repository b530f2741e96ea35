"""Maintenance. ``Equipment`` follows the ISO 14224 hierarchy (system > unit > subunit > maintainable item); the
maintenance issue adds work orders, preventive plans and failure records on top of it."""

from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.maintenance.choices import EquipmentClass, TaxonomyLevel


class Equipment(BaseModel):
    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="equipment")
    well = models.ForeignKey("wells.Well", null=True, blank=True, on_delete=models.SET_NULL, related_name="equipment")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    tag_number = models.CharField(max_length=64, unique=True, help_text="Plant tag, e.g. P-101A.")
    name = models.CharField(max_length=120)
    equipment_class = models.CharField(max_length=20, choices=EquipmentClass.choices, default=EquipmentClass.OTHER)
    level = models.CharField(max_length=10, choices=TaxonomyLevel.choices, default=TaxonomyLevel.UNIT)
    manufacturer = models.CharField(max_length=120, blank=True)
    model_number = models.CharField(max_length=120, blank=True)
    serial_number = models.CharField(max_length=120, blank=True)

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.OPERATOR_WRITES

    class Meta:
        ordering = ["tag_number"]
        verbose_name_plural = "equipment"

    def __str__(self):
        return f"{self.tag_number} {self.name}"
