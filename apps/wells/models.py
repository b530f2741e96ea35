"""Fields and sites: the units users are scoped to. Wells, wellbores and completions build on them (wells issue)."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.wells.choices import SiteKind

code_validator = RegexValidator(r"^[A-Z0-9][A-Z0-9_-]{0,31}$", "Use 1-32 upper-case letters, digits, '-' or '_'.")


class Field(BaseModel):
    """An oil or gas field: the top of the scoping hierarchy (a supervisor of Field A sees nothing of Field B)."""

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=60, blank=True)
    operator = models.CharField(max_length=120, blank=True, help_text="Operating company.")
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA zone of the site clocks.")

    scope = FieldScope("code", site="sites__code", distinct=True)
    rbac = rbac.READ_ONLY  # fields are master data: only administrators create or change them

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Site(BaseModel):
    """A pad, platform or station of a field, with its surface coordinates (WGS 84)."""

    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=SiteKind.choices, default=SiteKind.PAD)
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    scope = FieldScope("field__code", site="code")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"
