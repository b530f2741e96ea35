"""Fields and sites: the units users are scoped to. Wells, wellbores and completions build on them (wells issue)."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.wells.choices import SiteKind, WellStatus, WellType

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


class Well(BaseModel):
    """A well: the unit every ERP and SCADA record hangs from. Depths of its wellbores refer to its datum (RKB).

    The wells issue adds wellbores, completions, trajectories, status history and the rest; this is the core that
    other apps (SCADA tags, AFEs, equipment) link to.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="wells")
    name = models.CharField(max_length=64, unique=True, help_text="Short name used on the site, e.g. W01.")
    uwi = models.CharField("UWI / API number", max_length=32, unique=True)
    well_type = models.CharField(max_length=16, choices=WellType.choices, default=WellType.PRODUCER)
    status = models.CharField(max_length=16, choices=WellStatus.choices, default=WellStatus.PLANNED)

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.OPERATOR_WRITES

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
