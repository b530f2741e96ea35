"""Production: meters and their daily readings, daily well production, well tests and back-allocation runs.

Canonical units (apps.production.units): liquid volumes m³, gas volumes sm³ (m³ at standard conditions), pressures
kPa, temperatures °C, choke in 64ths of an inch. Every volume record states its standard conditions.

Transitions (only in apps.production.services): ``WellTest`` PENDING -> VALIDATED or REJECTED (supervisors; only
validated tests feed allocation). ``AllocationRun`` rows are written by ``services.allocate`` only.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope, OwnerScope
from apps.production.choices import AllocationLineStatus, DowntimeReason, MeterKind, Phase, UnitSystem, WellTestStatus

POSITIVE = [MinValueValidator(0)]
WELL_SCOPE = FieldScope("well__site__field__code", site="well__site__code")


def std_temperature():
    return Decimal(str(getattr(settings, "PRODUCTION_STD_TEMPERATURE_C", "15.0")))


def std_pressure():
    return Decimal(str(getattr(settings, "PRODUCTION_STD_PRESSURE_KPA", "101.325")))


class StandardConditions(models.Model):
    std_temperature_c = models.DecimalField("standard temperature (°C)", max_digits=5, decimal_places=2,
                                            default=std_temperature)
    std_pressure_kpa = models.DecimalField("standard pressure (kPa)", max_digits=7, decimal_places=3,
                                           default=std_pressure)

    class Meta:
        abstract = True


class Meter(BaseModel):
    """A fiscal or allocation meter of one phase at a site, with its meter factor and the wells flowing through it."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="meters")
    kind = models.CharField(max_length=12, choices=MeterKind.choices, default=MeterKind.ALLOCATION)
    phase = models.CharField(max_length=8, choices=Phase.choices, default=Phase.OIL)
    meter_factor = models.DecimalField(
        max_digits=8, decimal_places=6, default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("1.5"))],
    )
    wells = models.ManyToManyField("wells.Well", blank=True, related_name="meters",
                                   help_text="Wells whose production this meter measures (allocation group).")

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.SUPERVISOR_WRITES
    # apps.sync: site equipment registered at the edge. Its allocation group (the ``wells`` M2M, whose link rows have
    # box-local integer ids) travels as payload extras by the wells' UUIDs, the same on every box (wells sync up);
    # a change of the group writes a fresh event of the meter (apps.production.signals).
    sync_direction = "up"

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} ({self.get_phase_display()})"

    # -- sync hooks (apps/sync/registry.py) ----------------------------------------------------------------------------
    def sync_extras(self) -> dict:
        """The wells of the allocation group, read from the database."""
        through = Meter.wells.through
        return {"wells": sorted(str(pk) for pk in through.objects.filter(meter_id=self.pk).values_list("well_id",
                                                                                                       flat=True))}

    @classmethod
    def sync_apply_extras(cls, rows: dict) -> None:
        """At the receiver, right after the meters' upsert: make each meter's group exactly the wells sent. A meter
        naming a well this box does not have (yet) is refused, so it is sent again later rather than applied with
        part of its group."""
        import uuid

        from apps.sync.registry import Refused
        from apps.wells.models import Well

        wanted: dict[uuid.UUID, set] = {}
        for pk, extras in rows.items():
            wells = extras.get("wells")
            if not isinstance(wells, list):
                raise Refused(f"meter {pk}: _extras.wells must be a list of well ids")
            try:
                wanted[uuid.UUID(str(pk))] = {uuid.UUID(str(w)) for w in wells}
            except (TypeError, ValueError, AttributeError):
                raise Refused(f"meter {pk}: _extras.wells: not a list of well ids") from None
        named = set().union(*wanted.values())
        missing = named - set(Well._base_manager.filter(pk__in=named).values_list("pk", flat=True))
        if missing:
            pk = next(m for m, wells in wanted.items() if wells & missing)
            raise Refused(f"meter {pk}: well(s) {', '.join(sorted(map(str, missing)))} not on this box yet")
        through = cls.wells.through
        have: dict = {}
        for link_pk, meter, well in through.objects.filter(meter_id__in=list(wanted)).values_list(
                "pk", "meter_id", "well_id"):
            have.setdefault(meter, {})[well] = link_pk
        gone = [link for meter, links in have.items() for well, link in links.items() if well not in wanted[meter]]
        through.objects.filter(pk__in=gone).delete()
        through.objects.bulk_create([through(meter_id=meter, well_id=well) for meter, wells in wanted.items()
                                     for well in wells if well not in have.get(meter, {})])


class MeterReading(StandardConditions, BaseModel):
    """The volume a meter registered over one production day; ``corrected_volume`` applies the meter factor."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings")
    reading_date = models.DateField()
    gross_volume = models.DecimalField("gross volume (m³ or sm³)", max_digits=14, decimal_places=3,
                                       validators=POSITIVE)

    scope = FieldScope("meter__site__field__code", site="meter__site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: daily reading entered at the site

    class Meta:
        ordering = ["meter", "-reading_date"]
        constraints = [models.UniqueConstraint(fields=["meter", "reading_date"], name="one_reading_per_meter_day")]

    def __str__(self):
        return f"{self.meter.code} {self.reading_date} {self.gross_volume}"

    @property
    def corrected_volume(self) -> Decimal:
        return (self.gross_volume * self.meter.meter_factor).quantize(Decimal("0.001"))


class DailyWellProduction(StandardConditions, BaseModel):
    """One well's production day: hours on, downtime with its reason, choke, pressures, measured/estimated volumes
    and (after an allocation run) the allocated volumes."""

    well = models.ForeignKey("wells.Well", on_delete=models.PROTECT, related_name="daily_production")
    prod_date = models.DateField()
    hours_on = models.DecimalField(max_digits=4, decimal_places=2,
                                   validators=[MinValueValidator(0), MaxValueValidator(24)])
    downtime_reason = models.CharField(max_length=24, choices=DowntimeReason.choices, blank=True)
    choke_64ths = models.DecimalField("choke (1/64 in)", max_digits=5, decimal_places=1, null=True, blank=True,
                                      validators=POSITIVE)
    tubing_pressure_kpa = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True,
                                              validators=POSITIVE)
    casing_pressure_kpa = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True,
                                              validators=POSITIVE)
    oil_m3 = models.DecimalField("oil (m³)", max_digits=12, decimal_places=3, default=0, validators=POSITIVE)
    gas_sm3 = models.DecimalField("gas (sm³)", max_digits=14, decimal_places=3, default=0, validators=POSITIVE)
    water_m3 = models.DecimalField("water (m³)", max_digits=12, decimal_places=3, default=0, validators=POSITIVE)
    allocated_oil_m3 = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True, editable=False)
    allocated_gas_sm3 = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True, editable=False)
    allocated_water_m3 = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True, editable=False)
    remarks = models.CharField(max_length=200, blank=True)

    scope = WELL_SCOPE
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: the daily production entry of the site

    class Meta:
        ordering = ["-prod_date", "well"]
        verbose_name_plural = "daily well production"
        constraints = [models.UniqueConstraint(fields=["well", "prod_date"], name="one_daily_record_per_well_day")]

    def __str__(self):
        return f"{self.well} {self.prod_date}"

    @property
    def downtime_hours(self) -> Decimal:
        return Decimal(24) - (self.hours_on or 0)

    def clean(self):
        super().clean()
        if self.hours_on is not None and self.hours_on < 24 and not self.downtime_reason:
            raise ValidationError({"downtime_reason": "Give the reason for the downtime (hours on below 24)."})


class WellTest(StandardConditions, BaseModel):
    """A well test through the test separator. Only VALIDATED tests feed allocation."""

    well = models.ForeignKey("wells.Well", on_delete=models.PROTECT, related_name="well_tests")
    test_date = models.DateField()
    duration_hours = models.DecimalField(max_digits=5, decimal_places=2,
                                         validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(72)])
    choke_64ths = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True, validators=POSITIVE)
    oil_rate_m3d = models.DecimalField("oil rate (m³/d)", max_digits=10, decimal_places=3, validators=POSITIVE)
    gas_rate_sm3d = models.DecimalField("gas rate (sm³/d)", max_digits=12, decimal_places=3, validators=POSITIVE)
    water_rate_m3d = models.DecimalField("water rate (m³/d)", max_digits=10, decimal_places=3, validators=POSITIVE)
    tubing_pressure_kpa = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True,
                                              validators=POSITIVE)
    casing_pressure_kpa = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True,
                                              validators=POSITIVE)
    separator_pressure_kpa = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True,
                                                 validators=POSITIVE)
    status = models.CharField(max_length=10, choices=WellTestStatus.choices, default=WellTestStatus.PENDING,
                              editable=False)
    review_note = models.CharField(max_length=200, blank=True, editable=False)

    scope = WELL_SCOPE
    rbac = {
        rbac.SUPERVISOR: ("view", "add", "change", "validate"),
        rbac.OPERATOR: ("view", "add", "change"),
        rbac.VIEWER: rbac.READ,
    }
    sync_direction = "up"  # apps.sync: measured and validated at the site

    class Meta:
        ordering = ["-test_date"]
        permissions = [("validate_welltest", "Can validate or reject a well test")]

    def __str__(self):
        return f"Test {self.well} {self.test_date}"

    @property
    def water_cut_pct(self) -> Decimal | None:
        liquid = (self.oil_rate_m3d or 0) + (self.water_rate_m3d or 0)
        return None if not liquid else (Decimal(100) * self.water_rate_m3d / liquid).quantize(Decimal("0.01"))

    @property
    def gor_sm3_m3(self) -> Decimal | None:
        return None if not self.oil_rate_m3d else (self.gas_rate_sm3d / self.oil_rate_m3d).quantize(Decimal("0.01"))

    def rate(self, phase: str) -> Decimal:
        return {Phase.OIL: self.oil_rate_m3d, Phase.GAS: self.gas_rate_sm3d, Phase.WATER: self.water_rate_m3d}[phase]


class AllocationRun(BaseModel):
    """One back-allocation of a meter's measured volume over a period (a day or a month) to its wells.
    Rerunning the same meter and period replaces the lines (idempotent)."""

    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="allocation_runs")
    period_start = models.DateField()
    period_end = models.DateField()
    measured_volume = models.DecimalField(max_digits=14, decimal_places=3)
    theoretical_volume = models.DecimalField(max_digits=16, decimal_places=6)
    allocation_factor = models.DecimalField(max_digits=12, decimal_places=8)
    complete = models.BooleanField(default=True, help_text="False when some well had no validated test.")
    issues = models.JSONField(default=list, blank=True)

    scope = FieldScope("meter__site__field__code", site="meter__site__code")
    rbac = {rbac.SUPERVISOR: ("view", "add"), rbac.OPERATOR: rbac.READ, rbac.VIEWER: rbac.READ}
    sync_direction = "up"  # apps.sync: computed at the edge from its meters and tests

    class Meta:
        ordering = ["-period_start", "meter"]
        constraints = [models.UniqueConstraint(fields=["meter", "period_start", "period_end"],
                                               name="one_allocation_per_meter_period")]

    def __str__(self):
        return f"Allocation {self.meter.code} {self.period_start}..{self.period_end}"


class AllocationLine(BaseModel):
    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="lines")
    well = models.ForeignKey("wells.Well", on_delete=models.PROTECT, related_name="+")
    well_test = models.ForeignKey(WellTest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    test_rate = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    hours_on = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    theoretical_volume = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    allocated_volume = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    status = models.CharField(max_length=16, choices=AllocationLineStatus.choices)
    note = models.CharField(max_length=200, blank=True)

    scope = FieldScope("run__meter__site__field__code", site="run__meter__site__code")
    rbac = {rbac.SUPERVISOR: rbac.READ, rbac.OPERATOR: rbac.READ, rbac.VIEWER: rbac.READ}
    sync_direction = "up"  # apps.sync: child of an allocation run

    class Meta:
        ordering = ["run", "well__name"]

    def __str__(self):
        return f"{self.well} {self.allocated_volume}"


class UnitPreference(BaseModel):
    """A user's display unit system (values are stored in canonical units)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unit_preference")
    system = models.CharField(max_length=8, choices=UnitSystem.choices, default=UnitSystem.FIELD)

    scope = OwnerScope("user")
    # Read-only through the role policy; every signed-in user sets their own row through /api/v1/production/units/me/
    # (a personal display setting, not field data: viewers keep read-only rights on everything else).
    rbac = {role: rbac.READ for role in (rbac.SUPERVISOR, rbac.OPERATOR, rbac.VIEWER)}
    audited = False

    def __str__(self):
        return f"{self.user} {self.system}"


def unit_system_for(user) -> str:
    pref = UnitPreference.objects.filter(user_id=getattr(user, "pk", None)).only("system").first()
    return pref.system if pref else getattr(settings, "PRODUCTION_DEFAULT_UNITS", UnitSystem.FIELD)
