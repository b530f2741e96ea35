"""Drilling: rigs, the IADC daily drilling report (DDR) with its time log, bit records, BHA runs (listed from the bit
up), mud records and daily mud/chemical usage.

``DrillingReport`` transitions happen only in ``apps.drilling.services``:
DRAFT -> SUBMITTED (``submit``: the time log must be contiguous, without overlap, and total exactly 24 h)
-> APPROVED (``approve``, supervisors; runs the mud-usage hooks), and SUBMITTED/APPROVED -> DRAFT (``return_to_draft``,
supervisors, with a reason). Only a DRAFT report and its rows can be edited.

Depths are MD in metres from the well's datum; diameters in millimetres; costs in the field's currency.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.drilling.choices import BhaComponentType, MudType, NptCategory, ReportStatus, ResponsibleParty

POSITIVE = [MinValueValidator(0)]
WELLBORE_SCOPE = FieldScope("wellbore__well__site__field__code", site="wellbore__well__site__code")
REPORT_SCOPE = FieldScope("report__wellbore__well__site__field__code", site="report__wellbore__well__site__code")
ROW_RBAC = rbac.OPERATOR_WRITES


def default_day_start() -> dt.time:
    value = getattr(settings, "DDR_DAY_START", "06:00") or "06:00"
    return dt.time.fromisoformat(value)


class Rig(BaseModel):
    """A drilling or workover rig, currently at a site (its scope follows the site)."""

    name = models.CharField(max_length=80, unique=True)
    contractor = models.CharField(max_length=120, blank=True)
    rig_type = models.CharField(max_length=40, blank=True, help_text="e.g. land, jack-up, workover.")
    site = models.ForeignKey("wells.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="rigs")

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.SUPERVISOR_WRITES
    sync_direction = "up"  # apps.sync: registered by the edge of the site it works at (DDRs point at it)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class IadcActivity(BaseModel):
    """An IADC activity code (and optional subcode) of the time log. Shipped by a data migration."""

    code = models.CharField(max_length=4)
    subcode = models.CharField(max_length=4, blank=True)
    description = models.CharField(max_length=120)
    productive = models.BooleanField(default=True)

    rbac = rbac.READ_ONLY

    class Meta:
        ordering = ["code", "subcode"]
        verbose_name = "IADC activity code"
        constraints = [models.UniqueConstraint(fields=["code", "subcode"], name="iadc_code_subcode_unique")]

    def __str__(self):
        return f"{self.code}{self.subcode} {self.description}"


class DrillingReport(BaseModel):
    """The daily drilling report (WITSML ``drillReport``) of a wellbore for one report date."""

    wellbore = models.ForeignKey("wells.Wellbore", on_delete=models.PROTECT, related_name="drilling_reports")
    rig = models.ForeignKey(Rig, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    report_date = models.DateField(help_text="The date the report day starts.")
    report_number = models.PositiveIntegerField(null=True, blank=True)
    day_start = models.TimeField(default=default_day_start, help_text="Report day start, site time (06:00).")
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT,
                              editable=False)
    depth_md = models.DecimalField("depth at report time MD (m)", max_digits=8, decimal_places=2, null=True,
                                   blank=True, validators=POSITIVE)
    depth_tvd = models.DecimalField("depth TVD (m)", max_digits=8, decimal_places=2, null=True, blank=True,
                                    validators=POSITIVE)
    daily_cost = models.DecimalField(max_digits=14, decimal_places=2, default=0, validators=POSITIVE)
    personnel_on_board = models.PositiveIntegerField(default=0)
    operations_summary = models.TextField(blank=True, help_text="24 h summary.")
    forecast = models.TextField(blank=True, help_text="Operations planned for the next 24 h.")
    remarks = models.TextField(blank=True)
    returned_reason = models.TextField(blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", editable=False)

    scope = WELLBORE_SCOPE
    rbac = {
        rbac.SUPERVISOR: ("view", "add", "change", "submit", "approve"),
        rbac.OPERATOR: ("view", "add", "change", "submit"),
        rbac.VIEWER: rbac.READ,
    }
    sync_direction = "up"  # apps.sync: the DDR is authored at the rig site's edge

    class Meta:
        ordering = ["-report_date"]
        verbose_name = "daily drilling report"
        permissions = [("submit_drillingreport", "Can submit a daily drilling report"),
                       ("approve_drillingreport", "Can approve or return a daily drilling report")]
        constraints = [models.UniqueConstraint(fields=["wellbore", "report_date"], name="ddr_one_per_wellbore_day")]

    def __str__(self):
        return f"DDR {self.wellbore} {self.report_date}"

    def clean(self):
        super().clean()
        if not self._state.adding and self.status != ReportStatus.DRAFT:
            raise ValidationError({"status": f"A {self.get_status_display().lower()} report cannot be edited; "
                                             f"a supervisor may return it to draft."})

    @property
    def cumulative_cost(self):
        total = DrillingReport.objects.filter(wellbore_id=self.wellbore_id, report_date__lte=self.report_date
                                              ).aggregate(s=models.Sum("daily_cost"))["s"]
        return total or 0

    @property
    def npt_hours(self) -> float:
        from apps.drilling.timelog import duration_hours

        return round(sum(duration_hours(r, self.day_start) for r in self.time_log.all() if r.npt), 2)


class ReportChild(BaseModel):
    """A row of a DDR: editable only while its report is a draft."""

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        report = getattr(self, "report", None) if self.report_id else None
        if report is not None and report.status != ReportStatus.DRAFT:
            raise ValidationError({"report": "The report is not a draft: its rows cannot change."})


class TimeLogRow(ReportChild):
    """One row of the IADC time log: from/to time, activity code, depths, and the NPT classification."""

    report = models.ForeignKey(DrillingReport, on_delete=models.CASCADE, related_name="time_log")
    start_time = models.TimeField()
    end_time = models.TimeField()
    activity = models.ForeignKey(IadcActivity, on_delete=models.PROTECT, related_name="+")
    md_from = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=POSITIVE)
    md_to = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=POSITIVE)
    description = models.TextField()
    npt = models.BooleanField("NPT", default=False)
    npt_category = models.CharField(max_length=24, choices=NptCategory.choices, blank=True)
    responsible_party = models.CharField(max_length=16, choices=ResponsibleParty.choices, blank=True)
    third_party_name = models.CharField(max_length=120, blank=True)

    scope = REPORT_SCOPE
    rbac = ROW_RBAC
    sync_direction = "up"  # apps.sync: goes up with its DDR (IadcActivity: same uuid5 ids everywhere)

    class Meta:
        ordering = ["report", "start_time"]

    def __str__(self):
        return f"{self.start_time:%H:%M}-{self.end_time:%H:%M} {self.activity.code}"

    def clean(self):
        super().clean()
        if self.npt and not self.npt_category:
            raise ValidationError({"npt_category": "An NPT row needs its category."})
        if self.npt and not self.responsible_party:
            raise ValidationError({"responsible_party": "An NPT row needs the responsible party."})
        if self.responsible_party == ResponsibleParty.THIRD_PARTY and not self.third_party_name:
            raise ValidationError({"third_party_name": "Name the third party responsible."})
        if not self.npt and (self.npt_category or self.responsible_party):
            raise ValidationError({"npt": "Category and responsible party are for NPT rows only."})
        if self.md_from is not None and self.md_to is not None and self.md_to < self.md_from:
            raise ValidationError({"md_to": "MD to is above MD from."})


class BitRecord(BaseModel):
    """A bit run on a wellbore (IADC bit record) with its dull grade when pulled."""

    wellbore = models.ForeignKey("wells.Wellbore", on_delete=models.PROTECT, related_name="bits")
    bit_number = models.CharField(max_length=10)
    size_mm = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(1)])
    iadc_code = models.CharField("IADC code", max_length=8, blank=True, help_text="e.g. 517 or M323.")
    manufacturer = models.CharField(max_length=60, blank=True)
    serial_number = models.CharField(max_length=40)
    tfa_mm2 = models.DecimalField("TFA (mm²)", max_digits=7, decimal_places=1, null=True, blank=True,
                                  validators=POSITIVE)
    depth_in = models.DecimalField(max_digits=8, decimal_places=2, validators=POSITIVE)
    depth_out = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=POSITIVE)
    hours = models.DecimalField(max_digits=6, decimal_places=2, default=0, validators=POSITIVE)
    dull_grade = models.CharField(max_length=40, blank=True, help_text="IADC dull grade, e.g. 1-2-WT-A-E-I-NO-TD.")

    scope = WELLBORE_SCOPE
    rbac = ROW_RBAC
    sync_direction = "up"  # apps.sync: IADC bit record of the wellbore, authored at the edge

    class Meta:
        ordering = ["wellbore", "depth_in"]
        constraints = [models.UniqueConstraint(fields=["wellbore", "bit_number"], name="bit_number_per_wellbore")]

    def __str__(self):
        return f"Bit {self.bit_number} {self.size_mm} mm"

    @property
    def footage(self):
        return None if self.depth_out is None else self.depth_out - self.depth_in

    def clean(self):
        super().clean()
        if self.depth_out is not None and self.depth_in is not None and self.depth_out < self.depth_in:
            raise ValidationError({"depth_out": "Depth out is above depth in."})
        if self.dull_grade and len(self.dull_grade.split("-")) != 8:
            raise ValidationError({"dull_grade": "The IADC dull grade has 8 fields separated by '-'."})


class BhaRun(BaseModel):
    """A bottom-hole assembly run (WITSML ``bhaRun``); its components are listed from the bit up."""

    wellbore = models.ForeignKey("wells.Wellbore", on_delete=models.PROTECT, related_name="bha_runs")
    run_number = models.PositiveIntegerField()
    bit = models.ForeignKey(BitRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="bha_runs")
    depth_in = models.DecimalField(max_digits=8, decimal_places=2, validators=POSITIVE)
    depth_out = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=POSITIVE)
    hours = models.DecimalField("circulating hours of the run", max_digits=6, decimal_places=2, default=0,
                                validators=POSITIVE)
    purpose = models.CharField(max_length=120, blank=True)

    scope = WELLBORE_SCOPE
    rbac = ROW_RBAC
    sync_direction = "up"  # apps.sync: authored at the edge with the DDR

    class Meta:
        ordering = ["wellbore", "run_number"]
        verbose_name = "BHA run"
        constraints = [models.UniqueConstraint(fields=["wellbore", "run_number"], name="bha_run_number")]

    def __str__(self):
        return f"BHA {self.run_number} {self.wellbore}"


class BhaComponent(BaseModel):
    """A component of a BHA; ``position`` 1 is the bit (the list goes up from the bit)."""

    bha = models.ForeignKey(BhaRun, on_delete=models.CASCADE, related_name="components")
    position = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="1 = the bit, upwards.")
    component_type = models.CharField(max_length=16, choices=BhaComponentType.choices)
    description = models.CharField(max_length=120, blank=True)
    serial_number = models.CharField(max_length=40, blank=True)
    od_mm = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(1)])
    id_mm = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True, validators=POSITIVE)
    length_m = models.DecimalField(max_digits=7, decimal_places=2, validators=POSITIVE)
    weight_kg = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True, validators=POSITIVE)
    top_connection = models.CharField(max_length=40, blank=True)
    bottom_connection = models.CharField(max_length=40, blank=True)

    scope = FieldScope("bha__wellbore__well__site__field__code", site="bha__wellbore__well__site__code")
    rbac = ROW_RBAC
    sync_direction = "up"  # apps.sync: child of a BHA run

    class Meta:
        ordering = ["bha", "position"]
        verbose_name = "BHA component"
        constraints = [models.UniqueConstraint(fields=["bha", "position"], name="bha_component_position")]

    def __str__(self):
        return f"{self.position}. {self.get_component_type_display()} {self.serial_number}"

    def clean(self):
        super().clean()
        if self.id_mm is not None and self.od_mm is not None and self.id_mm >= self.od_mm:
            raise ValidationError({"id_mm": "The ID must be smaller than the OD."})
        if self.position == 1 and self.component_type != BhaComponentType.BIT:
            raise ValidationError({"component_type": "Position 1 is the bit: BHAs are listed from the bit up."})
        if self.component_type in ("motor", "jar") and not self.serial_number:
            raise ValidationError({"serial_number": "Motors and jars need a serial number to accumulate hours."})

    @property
    def accumulated_hours(self):
        """Hours of every run this serial number (a jar or motor) has been in, up to and including this run."""
        if self.component_type not in ("motor", "jar") or not self.serial_number:
            return None
        from apps.drilling.services import accumulated_hours

        return accumulated_hours(self.component_type, self.serial_number, upto=self.bha)


class MudRecord(ReportChild):
    """A mud check of the day (properties measured at a time and depth)."""

    report = models.ForeignKey(DrillingReport, on_delete=models.CASCADE, related_name="mud_checks")
    checked_at = models.TimeField()
    depth_md = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=POSITIVE)
    mud_type = models.CharField(max_length=8, choices=MudType.choices, default=MudType.WATER_BASED)
    density_kg_m3 = models.DecimalField("density (kg/m³)", max_digits=6, decimal_places=1,
                                        validators=[MinValueValidator(500), MaxValueValidator(3000)])
    funnel_viscosity_s = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True,
                                             validators=POSITIVE)
    plastic_viscosity_cp = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True,
                                               validators=POSITIVE)
    yield_point_pa = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True, validators=POSITIVE)
    gel_10s_pa = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True, validators=POSITIVE)
    gel_10m_pa = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True, validators=POSITIVE)
    fluid_loss_ml = models.DecimalField("API fluid loss (ml/30 min)", max_digits=5, decimal_places=1, null=True,
                                        blank=True, validators=POSITIVE)
    ph = models.DecimalField("pH", max_digits=4, decimal_places=1, null=True, blank=True,
                             validators=[MinValueValidator(0), MaxValueValidator(14)])
    chlorides_mg_l = models.DecimalField(max_digits=9, decimal_places=0, null=True, blank=True, validators=POSITIVE)
    solids_pct = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True,
                                     validators=[MinValueValidator(0), MaxValueValidator(100)])

    scope = REPORT_SCOPE
    rbac = ROW_RBAC
    sync_direction = "up"  # apps.sync: child row of the DDR

    class Meta:
        ordering = ["report", "checked_at"]

    def __str__(self):
        return f"Mud {self.report.report_date} {self.checked_at:%H:%M} {self.density_kg_m3} kg/m³"


class MudUsage(ReportChild):
    """Mud products and chemicals used during the report day. When the report is approved the registered
    ``apps.drilling.services.MUD_USAGE_HOOKS`` run for each row (the inventory app issues the stock there);
    ``stock_issued`` records that it was done, so a re-approval does not issue twice."""

    report = models.ForeignKey(DrillingReport, on_delete=models.CASCADE, related_name="mud_usage")
    product = models.CharField(max_length=120)
    item_code = models.CharField(max_length=40, blank=True, help_text="Inventory item code (stock issue).")
    quantity = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    unit = models.CharField(max_length=16, help_text="e.g. sack, kg, m³, drum.")
    unit_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True, validators=POSITIVE)
    stock_issued = models.BooleanField(default=False, editable=False)
    stock_reference = models.CharField(max_length=80, blank=True, editable=False)

    scope = REPORT_SCOPE
    rbac = ROW_RBAC
    sync_direction = "up"  # apps.sync: child row of the DDR

    class Meta:
        ordering = ["report", "product"]
        verbose_name_plural = "mud usage"

    def __str__(self):
        return f"{self.quantity} {self.unit} {self.product}"
