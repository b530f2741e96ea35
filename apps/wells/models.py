"""Fields and sites: the units users are scoped to; wells, wellbores, completions, reservoirs, PVT samples and
trajectories (WITSML object names) build on them.

Depths are measured depths (MD) in metres below the well's datum (``Well.datum_type``, usually RKB) unless a field
name says TVD; elevations are metres above mean sea level. Inner/outer diameters are millimetres.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Q

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.wells.choices import (
    AzimuthReference,
    DatumType,
    FluidType,
    PvtSampleKind,
    RestrictionKind,
    SiteKind,
    WellboreStatus,
    WellStatus,
    WellType,
)

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


WELL_SCOPE = FieldScope("well__site__field__code", site="well__site__code")
WELLBORE_SCOPE = FieldScope("wellbore__well__site__field__code", site="wellbore__well__site__code")


class Well(BaseModel):
    """A well: the unit every ERP and SCADA record hangs from. Depths of its wellbores refer to its datum (RKB).

    Every change of ``status`` (through the API, the UI, the admin or a service) appends a ``WellStatusChange`` row:
    the status history is derived from saves, so it cannot be bypassed.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="wells")
    name = models.CharField(max_length=64, unique=True, help_text="Short name used on the site, e.g. W01.")
    uwi = models.CharField("UWI / API number", max_length=32, unique=True)
    well_type = models.CharField(max_length=16, choices=WellType.choices, default=WellType.PRODUCER)
    status = models.CharField(max_length=16, choices=WellStatus.choices, default=WellStatus.PLANNED)
    surface_latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)], help_text="Surface location, WGS 84.",
    )
    surface_longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    datum_type = models.CharField(max_length=8, choices=DatumType.choices, default=DatumType.RKB,
                                  help_text="Depth reference every MD/TVD of this well refers to.")
    datum_elevation_m = models.DecimalField(
        "datum elevation (m above MSL)", max_digits=8, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(-500), MaxValueValidator(9000)],
    )
    ground_elevation_m = models.DecimalField("ground level elevation (m above MSL)", max_digits=8,
                                             decimal_places=2, null=True, blank=True)
    spud_date = models.DateField(null=True, blank=True)
    completion_date = models.DateField(null=True, blank=True)

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.OPERATOR_WRITES

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.spud_date and self.completion_date and self.completion_date < self.spud_date:
            raise ValidationError({"completion_date": "The completion date cannot be before the spud date."})
        if (self.datum_elevation_m is not None and self.ground_elevation_m is not None
                and self.datum_type in (DatumType.RKB, DatumType.DF)
                and self.datum_elevation_m < self.ground_elevation_m):
            raise ValidationError({"datum_elevation_m": "A rotary/drill-floor datum cannot be below ground level."})

    def save(self, *args, **kwargs):
        previous = None if self._state.adding else getattr(self, "_audit_snapshot", {}).get("status")
        adding = self._state.adding
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            if adding or previous != self.status:
                WellStatusChange.objects.create(well=self, from_status=previous or "", to_status=self.status,
                                                reason=getattr(self, "_status_reason", ""))
        if adding or previous != self.status:
            self._audit_snapshot = {**getattr(self, "_audit_snapshot", {}), "status": self.status}

    @property
    def field(self):
        return self.site.field


class WellStatusChange(BaseModel):
    """One row of a well's status history (written by ``Well.save``; read-only for every role)."""

    well = models.ForeignKey(Well, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=16, choices=WellStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=WellStatus.choices)
    reason = models.CharField(max_length=200, blank=True)

    scope = WELL_SCOPE
    rbac = rbac.READ_ONLY
    sync_direction = "up"  # apps.sync: well history is the edge's operational record

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.well}: {self.from_status or '-'} -> {self.to_status}"


class Wellbore(BaseModel):
    """A wellbore (WITSML ``wellbore``): the original hole or a sidetrack from its ``parent`` at ``kickoff_md``."""

    well = models.ForeignKey(Well, on_delete=models.PROTECT, related_name="wellbores")
    name = models.CharField(max_length=64)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="sidetracks",
                               help_text="Parent wellbore of a sidetrack.")
    status = models.CharField(max_length=16, choices=WellboreStatus.choices, default=WellboreStatus.PLANNED)
    kickoff_md = models.DecimalField("kick-off MD (m)", max_digits=8, decimal_places=2, null=True, blank=True,
                                     validators=[MinValueValidator(0)])
    total_md = models.DecimalField("total depth MD (m)", max_digits=8, decimal_places=2, null=True, blank=True,
                                   validators=[MinValueValidator(0)])
    total_tvd = models.DecimalField("total depth TVD (m)", max_digits=8, decimal_places=2, null=True, blank=True,
                                    validators=[MinValueValidator(0)])

    scope = WELL_SCOPE
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: operational record of the site's edge (DDRs, bits, BHAs point at it)

    class Meta:
        ordering = ["well__name", "name"]
        constraints = [models.UniqueConstraint(fields=["well", "name"], name="wellbore_unique_name_per_well")]

    def __str__(self):
        return f"{self.well} / {self.name}"

    def clean(self):
        super().clean()
        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": "A wellbore cannot be its own parent."})
            if self.well_id and self.parent.well_id != self.well_id:
                raise ValidationError({"parent": "A sidetrack's parent must be a wellbore of the same well."})
            if self.kickoff_md is None:
                raise ValidationError({"kickoff_md": "A sidetrack needs its kick-off depth."})
            if self.parent.total_md is not None and self.kickoff_md > self.parent.total_md:
                raise ValidationError({"kickoff_md": "The kick-off depth is below the parent's total depth."})
        if self.kickoff_md is not None and self.total_md is not None and self.total_md < self.kickoff_md:
            raise ValidationError({"total_md": "The total depth is above the kick-off depth."})


class Reservoir(BaseModel):
    """A producing zone of a field (formation), with its initial conditions."""

    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="reservoirs")
    name = models.CharField(max_length=80)
    formation = models.CharField(max_length=80, blank=True)
    fluid_type = models.CharField(max_length=16, choices=FluidType.choices, default=FluidType.BLACK_OIL)
    top_tvd_m = models.DecimalField("top TVD (m)", max_digits=8, decimal_places=2, null=True, blank=True)
    initial_pressure_kpa = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True,
                                               validators=[MinValueValidator(0)])
    temperature_c = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)

    scope = FieldScope("field__code")
    rbac = rbac.SUPERVISOR_WRITES
    sync_direction = "both"  # apps.sync: field-level master data, like wells.Field (either side may author it)

    class Meta:
        ordering = ["field__code", "name"]
        constraints = [models.UniqueConstraint(fields=["field", "name"], name="reservoir_unique_name_per_field")]

    def __str__(self):
        return f"{self.field.code} {self.name}"


class Completion(BaseModel):
    """The completion string of a wellbore: tubing and the restrictions (nipples, SSSV...) the toolstring must pass."""

    wellbore = models.ForeignKey(Wellbore, on_delete=models.PROTECT, related_name="completions")
    name = models.CharField(max_length=80)
    reservoir = models.ForeignKey(Reservoir, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="completions")
    tubing_od_mm = models.DecimalField("tubing OD (mm)", max_digits=7, decimal_places=2,
                                       validators=[MinValueValidator(1)])
    tubing_id_mm = models.DecimalField("tubing ID (mm)", max_digits=7, decimal_places=2,
                                       validators=[MinValueValidator(1)])
    tubing_shoe_md = models.DecimalField("tubing shoe MD (m)", max_digits=8, decimal_places=2, null=True,
                                         blank=True, validators=[MinValueValidator(0)])
    installed_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    scope = WELLBORE_SCOPE
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: goes up with its wellbore

    class Meta:
        ordering = ["wellbore", "-installed_on"]

    def __str__(self):
        return f"{self.wellbore} {self.name}"

    def clean(self):
        super().clean()
        if self.tubing_id_mm is not None and self.tubing_od_mm is not None and self.tubing_id_mm >= self.tubing_od_mm:
            raise ValidationError({"tubing_id_mm": "The tubing ID must be smaller than its OD."})

    def smallest_restriction(self):
        """(min ID in mm, the restriction or None): the tightest of the tubing ID and every restriction."""
        best = (self.tubing_id_mm, None)
        for r in self.restrictions.all():
            if r.min_id_mm < best[0]:
                best = (r.min_id_mm, r)
        return best


class CompletionRestriction(BaseModel):
    """A nipple or other restriction of a completion: its minimum ID at a depth."""

    completion = models.ForeignKey(Completion, on_delete=models.CASCADE, related_name="restrictions")
    kind = models.CharField(max_length=24, choices=RestrictionKind.choices, default=RestrictionKind.NIPPLE)
    description = models.CharField(max_length=120, blank=True, help_text="e.g. 2.75 in X nipple.")
    depth_md = models.DecimalField("depth MD (m)", max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    min_id_mm = models.DecimalField("minimum ID (mm)", max_digits=7, decimal_places=2,
                                    validators=[MinValueValidator(1)])

    scope = FieldScope("completion__wellbore__well__site__field__code", site="completion__wellbore__well__site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: child of a completion

    class Meta:
        ordering = ["completion", "depth_md"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.min_id_mm} mm @ {self.depth_md} m"

    def clean(self):
        super().clean()
        if self.completion_id and self.min_id_mm and self.min_id_mm > self.completion.tubing_id_mm:
            raise ValidationError({"min_id_mm": "A restriction cannot be wider than the tubing ID."})


class PvtSample(BaseModel):
    """A basic PVT sample record (laboratory results of a fluid sample)."""

    well = models.ForeignKey(Well, on_delete=models.PROTECT, related_name="pvt_samples")
    reservoir = models.ForeignKey(Reservoir, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="pvt_samples")
    sampled_on = models.DateField()
    kind = models.CharField(max_length=16, choices=PvtSampleKind.choices, default=PvtSampleKind.BOTTOMHOLE)
    depth_md = models.DecimalField("sample depth MD (m)", max_digits=8, decimal_places=2, null=True, blank=True)
    laboratory = models.CharField(max_length=120, blank=True)
    reservoir_pressure_kpa = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True,
                                                 validators=[MinValueValidator(0)])
    reservoir_temperature_c = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    bubble_point_kpa = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True,
                                           validators=[MinValueValidator(0)])
    solution_gor_sm3_sm3 = models.DecimalField("solution GOR (sm³/sm³)", max_digits=10, decimal_places=2, null=True,
                                               blank=True, validators=[MinValueValidator(0)])
    oil_fvf = models.DecimalField("oil formation volume factor (rm³/sm³)", max_digits=6, decimal_places=4, null=True,
                                  blank=True, validators=[MinValueValidator(0)])
    oil_api_gravity = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    oil_viscosity_cp = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True,
                                           validators=[MinValueValidator(0)])
    gas_specific_gravity = models.DecimalField(max_digits=5, decimal_places=3, null=True, blank=True)
    notes = models.TextField(blank=True)

    scope = WELL_SCOPE
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: sampled at the site; goes up with its well

    class Meta:
        ordering = ["-sampled_on"]

    def __str__(self):
        return f"PVT {self.well} {self.sampled_on}"

    def clean(self):
        super().clean()
        if (self.bubble_point_kpa is not None and self.reservoir_pressure_kpa is not None
                and self.bubble_point_kpa > self.reservoir_pressure_kpa * 2):
            raise ValidationError({"bubble_point_kpa": "Bubble point implausibly above twice the reservoir pressure."})


class Trajectory(BaseModel):
    """A directional survey of a wellbore (WITSML ``trajectory``). Only one per wellbore may be ``definitive``.

    Station TVD, N/S, E/W and dogleg severity are computed by the minimum-curvature method
    (``apps.wells.services.recompute_trajectory``) whenever stations change.
    """

    wellbore = models.ForeignKey(Wellbore, on_delete=models.CASCADE, related_name="trajectories")
    name = models.CharField(max_length=80)
    definitive = models.BooleanField(default=False)
    survey_company = models.CharField(max_length=120, blank=True)
    azimuth_reference = models.CharField(max_length=16, choices=AzimuthReference.choices,
                                         default=AzimuthReference.TRUE)
    tie_on_md = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    tie_on_tvd = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    tie_on_ns = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    tie_on_ew = models.DecimalField(max_digits=9, decimal_places=2, default=0)

    scope = WELLBORE_SCOPE
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: goes up with its wellbore

    class Meta:
        ordering = ["wellbore", "name"]
        verbose_name_plural = "trajectories"
        constraints = [
            models.UniqueConstraint(fields=["wellbore"], condition=Q(definitive=True),
                                    name="one_definitive_trajectory_per_wellbore",
                                    violation_error_message="This wellbore already has a definitive trajectory."),
        ]

    def __str__(self):
        return f"{self.wellbore} {self.name}{' (definitive)' if self.definitive else ''}"

    def clean(self):
        super().clean()
        if self.definitive and self.wellbore_id:
            others = Trajectory.objects.filter(wellbore_id=self.wellbore_id, definitive=True).exclude(pk=self.pk)
            if others.exists():
                raise ValidationError({"definitive": "This wellbore already has a definitive trajectory."})


class SurveyStation(BaseModel):
    """A survey station: measured MD, inclination and azimuth; the rest is computed (read-only)."""

    trajectory = models.ForeignKey(Trajectory, on_delete=models.CASCADE, related_name="stations")
    md = models.DecimalField("MD (m)", max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    inclination = models.DecimalField("inclination (°)", max_digits=6, decimal_places=3,
                                      validators=[MinValueValidator(0), MaxValueValidator(180)])
    azimuth = models.DecimalField("azimuth (°)", max_digits=6, decimal_places=3,
                                  validators=[MinValueValidator(0), MaxValueValidator(360)])
    tvd = models.DecimalField("TVD (m)", max_digits=9, decimal_places=3, null=True, blank=True, editable=False)
    ns = models.DecimalField("N/S (m, +north)", max_digits=10, decimal_places=3, null=True, blank=True,
                             editable=False)
    ew = models.DecimalField("E/W (m, +east)", max_digits=10, decimal_places=3, null=True, blank=True,
                             editable=False)
    dls = models.DecimalField("dogleg severity (°/30 m)", max_digits=8, decimal_places=3, null=True, blank=True,
                              editable=False)

    scope = FieldScope("trajectory__wellbore__well__site__field__code", site="trajectory__wellbore__well__site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: child of a trajectory

    class Meta:
        ordering = ["trajectory", "md"]
        constraints = [models.UniqueConstraint(fields=["trajectory", "md"], name="survey_station_unique_md")]

    def __str__(self):
        return f"{self.md} m {self.inclination}° {self.azimuth}°"

    def save(self, *args, **kwargs):
        """Computes this station from the one above it (so an edit is one audited change); the stations below are
        then brought up to date by ``services.recompute_trajectory``."""
        from apps.wells.services import compute_station

        if self.trajectory_id and self.md is not None and (kwargs.get("update_fields") is None):
            compute_station(self)
        super().save(*args, **kwargs)
