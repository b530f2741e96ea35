"""Well intervention: jobs (coiled tubing, workover, slickline, wireline), coiled-tubing reels with fatigue tracking,
the tool catalogue and toolstrings (an ordered list of components for a well and an operation).

State transitions happen only in ``apps.intervention.services``:
- ``InterventionJob``: PLANNED -> IN_PROGRESS -> COMPLETED (the reel's fatigue and running length are updated), or
  PLANNED/IN_PROGRESS -> CANCELLED;
- ``Toolstring``: DRAFT -> APPROVED (refused while the configurator reports an error); any edit returns it to DRAFT.

Units: lengths of tools in metres, diameters in millimetres, weights in kilograms, pressures in kPa.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.intervention.choices import Gender, JobStatus, JobType, ToolstringStatus, ToolType

WELL_SCOPE = FieldScope("well__site__field__code", site="well__site__code")
POSITIVE = [MinValueValidator(0)]


def fatigue_limit_pct():
    return getattr(settings, "CT_REEL_FATIGUE_LIMIT_PCT", 40.0)


class CoiledTubingReel(BaseModel):
    """A coiled-tubing reel. ``fatigue_pct`` is the consumed fatigue life; past the retirement limit
    (``CT_REEL_FATIGUE_LIMIT_PCT``) the reel cannot be assigned to a job."""

    serial_number = models.CharField(max_length=40, unique=True)
    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="ct_reels",
                             help_text="Where the reel is kept (its scope follows the site).")
    od_mm = models.DecimalField("OD (mm)", max_digits=6, decimal_places=2, validators=[MinValueValidator(10)])
    wall_thickness_mm = models.DecimalField(max_digits=5, decimal_places=2,
                                            validators=[MinValueValidator(Decimal("0.5"))])
    grade = models.CharField(max_length=20, help_text="e.g. CT80, CT90, CT110.")
    length_m = models.DecimalField("string length (m)", max_digits=8, decimal_places=1, validators=POSITIVE)
    running_length_m = models.DecimalField("cumulative running length (m)", max_digits=10, decimal_places=1,
                                           default=0, validators=POSITIVE)
    fatigue_pct = models.DecimalField("fatigue consumed (%)", max_digits=5, decimal_places=2, default=0,
                                      validators=[MinValueValidator(0), MaxValueValidator(100)])
    retired = models.BooleanField(default=False)

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.SUPERVISOR_WRITES
    sync_direction = "up"  # apps.sync: kept at a site; jobs point at it

    class Meta:
        ordering = ["serial_number"]
        verbose_name = "coiled-tubing reel"

    def __str__(self):
        return f"{self.serial_number} {self.od_mm} mm {self.grade}"

    def clean(self):
        super().clean()
        if self.od_mm and self.wall_thickness_mm and self.wall_thickness_mm * 2 >= self.od_mm:
            raise ValidationError({"wall_thickness_mm": "The wall is thicker than half the OD."})

    @property
    def past_limit(self) -> bool:
        return self.retired or float(self.fatigue_pct) >= float(fatigue_limit_pct())


class InterventionJob(BaseModel):
    """A well intervention job. ``cost_reference`` is the AFE/cost code (linked to an AFE by the finance issue)."""

    well = models.ForeignKey("wells.Well", on_delete=models.PROTECT, related_name="intervention_jobs")
    job_type = models.CharField(max_length=16, choices=JobType.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PLANNED, editable=False)
    objective = models.CharField(max_length=200, blank=True)
    planned_start = models.DateField()
    planned_end = models.DateField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True, editable=False)
    actual_end = models.DateTimeField(null=True, blank=True, editable=False)
    crew = models.TextField(blank=True, help_text="Crew members and roles, one per line.")
    contractor = models.CharField(max_length=120, blank=True)
    cost_reference = models.CharField(max_length=40, blank=True, help_text="AFE number or cost code.")
    reel = models.ForeignKey(CoiledTubingReel, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    fatigue_added_pct = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, editable=False)
    running_length_m = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True, editable=False)
    remarks = models.TextField(blank=True)

    scope = WELL_SCOPE
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: the site's operational record

    class Meta:
        ordering = ["-planned_start"]

    def __str__(self):
        return f"{self.get_job_type_display()} {self.well} {self.planned_start}"

    def clean(self):
        super().clean()
        if self.planned_end and self.planned_start and self.planned_end < self.planned_start:
            raise ValidationError({"planned_end": "The planned end is before the planned start."})
        if self.reel_id:
            if self.job_type != JobType.COILED_TUBING:
                raise ValidationError({"reel": "Only a coiled-tubing job takes a reel."})
            reel = self.reel
            changed = self._state.adding or getattr(self, "_audit_snapshot", {}).get("reel_id") != self.reel_id
            if changed and reel.past_limit:
                raise ValidationError({"reel": f"Reel {reel.serial_number} is at {reel.fatigue_pct}% fatigue, past "
                                               f"the {fatigue_limit_pct()}% retirement limit (or retired)."})


class ToolComponent(BaseModel):
    """A catalogue entry of a downhole tool (shared master data, not scoped)."""

    code = models.CharField(max_length=40, unique=True, help_text="Catalogue code, e.g. RS-NR-158.")
    name = models.CharField(max_length=120)
    tool_type = models.CharField(max_length=20, choices=ToolType.choices)
    od_mm = models.DecimalField("OD (mm)", max_digits=6, decimal_places=2, validators=[MinValueValidator(1)])
    fishing_neck_od_mm = models.DecimalField("fishing-neck OD (mm)", max_digits=6, decimal_places=2, null=True,
                                             blank=True, validators=POSITIVE)
    length_m = models.DecimalField("length (m)", max_digits=6, decimal_places=3, validators=[MinValueValidator(0)])
    weight_kg = models.DecimalField("weight (kg)", max_digits=7, decimal_places=2, validators=POSITIVE)
    top_connection = models.CharField(max_length=40, blank=True, help_text="Thread, e.g. 15/16-10 UN.")
    top_gender = models.CharField(max_length=3, choices=Gender.choices, blank=True)
    bottom_connection = models.CharField(max_length=40, blank=True)
    bottom_gender = models.CharField(max_length=3, choices=Gender.choices, blank=True)
    rotating = models.BooleanField(default=True, help_text="For rope sockets: False for a non-rotating one.")
    active = models.BooleanField(default=True)

    rbac = {rbac.SUPERVISOR: rbac.WRITE, rbac.OPERATOR: rbac.READ, rbac.VIEWER: rbac.READ}
    sync_direction = "both"  # apps.sync: catalogue authored at the hub and pulled by edges; an
    # isolated edge may add a tool (supervisors may write it) and that entry goes up (code is unique)

    class Meta:
        ordering = ["tool_type", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        super().clean()
        if self.fishing_neck_od_mm and self.od_mm and self.fishing_neck_od_mm > self.od_mm:
            raise ValidationError({"fishing_neck_od_mm": "The fishing neck cannot be wider than the tool OD."})


class Toolstring(BaseModel):
    """An ordered list of components (top first) for a well and an operation, with the run conditions the
    configurator checks against (wire size, wellhead pressure, lubricator length).

    The id may be supplied by the client so that a retried offline create is idempotent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=True)
    name = models.CharField(max_length=120)
    well = models.ForeignKey("wells.Well", on_delete=models.PROTECT, related_name="toolstrings")
    operation_type = models.CharField(max_length=60, help_text="e.g. Fishing, Gauge run, Set plug.")
    job = models.ForeignKey(InterventionJob, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="toolstrings")
    wire_size_mm = models.DecimalField(max_digits=5, decimal_places=3, null=True, blank=True,
                                       validators=[MinValueValidator(Decimal("0.5"))],
                                       help_text="Slickline/wire diameter.")
    whp_kpa = models.DecimalField("wellhead pressure (kPa)", max_digits=9, decimal_places=1, null=True, blank=True,
                                  validators=POSITIVE)
    lubricator_length_m = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True,
                                              validators=POSITIVE)
    metadata = models.JSONField(default=dict, blank=True)
    synced = models.BooleanField(default=False, editable=False, help_text="Set by the sync app once at the hub.")
    status = models.CharField(max_length=10, choices=ToolstringStatus.choices, default=ToolstringStatus.DRAFT,
                              editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", editable=False)

    scope = WELL_SCOPE
    sync_direction = "up"  # apps.sync: edge -> hub; ``synced`` is set once the hub has the record
    sync_delivered_flag = "synced"
    rbac = {
        rbac.SUPERVISOR: ("view", "add", "change", "delete", "approve"),
        rbac.OPERATOR: ("view", "add", "change", "delete"),
        rbac.VIEWER: rbac.READ,
    }

    class Meta:
        ordering = ["-updated_at"]
        permissions = [("approve_toolstring", "Can approve a toolstring")]

    def __str__(self):
        return self.name


class ToolstringItem(BaseModel):
    """One component of a toolstring at a position (0 = top). A copy of the catalogue figures is kept so a later
    catalogue edit does not change an approved string; ``component`` is empty for an inline component."""

    toolstring = models.ForeignKey(Toolstring, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    component = models.ForeignKey(ToolComponent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=120)
    tool_type = models.CharField(max_length=20, choices=ToolType.choices)
    od_mm = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(1)])
    fishing_neck_od_mm = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    length_m = models.DecimalField(max_digits=6, decimal_places=3, validators=POSITIVE)
    weight_kg = models.DecimalField(max_digits=7, decimal_places=2, validators=POSITIVE)
    top_connection = models.CharField(max_length=40, blank=True)
    top_gender = models.CharField(max_length=3, choices=Gender.choices, blank=True)
    bottom_connection = models.CharField(max_length=40, blank=True)
    bottom_gender = models.CharField(max_length=3, choices=Gender.choices, blank=True)
    rotating = models.BooleanField(default=True)

    scope = FieldScope("toolstring__well__site__field__code", site="toolstring__well__site__code")
    sync_direction = "up"  # the components travel with their toolstring (catalogue figures are copied in)
    sync_exclude = ("component",)
    rbac = {rbac.SUPERVISOR: ("view", "add", "change", "delete"), rbac.OPERATOR: ("view", "add", "change", "delete"),
            rbac.VIEWER: rbac.READ}

    class Meta:
        ordering = ["toolstring", "position"]
        constraints = [models.UniqueConstraint(fields=["toolstring", "position"], name="toolstring_item_position")]

    def __str__(self):
        return f"{self.position}: {self.name}"
