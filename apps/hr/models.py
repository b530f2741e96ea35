"""HR: employees, positions, crews and rotations, certifications, timesheets.

Rules (in apps.hr.services):
- An employee joins a crew only if they hold a valid certificate (issued, not expired over the assignment) of every
  type the crew requires and every type its rig requires; otherwise the assignment is refused naming what is missing.
- Timesheet: DRAFT -> SUBMITTED -> APPROVED | REJECTED (REJECTED -> DRAFT to correct). Approval is the ``approve``
  rbac action (supervisors), never by the employee themself; approved hours x rate become a labour CostEntry on the
  timesheet's (or its work order's) AFE line or cost centre.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.hr.choices import TimesheetStatus

RATE = {"max_digits": 10, "decimal_places": 2}
HOURS = {"max_digits": 5, "decimal_places": 2}


class Position(BaseModel):
    """A job position (driller, derrickman, production operator...) with its default hourly rate."""

    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=120)
    hourly_rate = models.DecimalField(**RATE, default=0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.title


class RotationSchedule(BaseModel):
    """A rotation such as 14/14 or 21/21: ``days_on`` at the site, then ``days_off``."""

    name = models.CharField(max_length=32, unique=True)
    days_on = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    days_off = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def on_duty(self, start: dt.date, day: dt.date) -> bool:
        if day < start:
            return False
        return (day - start).days % (self.days_on + self.days_off) < self.days_on


class Employee(BaseModel):
    """A person working at a site, optionally linked to a login."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="employees",
                             help_text="Home site (scopes who sees the record).")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="employee")
    employee_number = models.CharField(max_length=32, unique=True)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    position = models.ForeignKey(Position, null=True, blank=True, on_delete=models.PROTECT, related_name="employees")
    hourly_rate = models.DecimalField(**RATE, null=True, blank=True, validators=[MinValueValidator(0)],
                                      help_text="Overrides the position's rate.")
    rotation = models.ForeignKey(RotationSchedule, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="employees")
    rotation_start = models.DateField(null=True, blank=True, help_text="First day on of the rotation cycle.")
    active = models.BooleanField(default=True)

    scope = FieldScope("site__field__code", site="site__code")

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self):
        return f"{self.first_name} {self.last_name} ({self.employee_number})"

    @property
    def rate(self) -> Decimal:
        if self.hourly_rate is not None:
            return self.hourly_rate
        return self.position.hourly_rate if self.position_id else Decimal("0")

    def clean(self):
        if self.rotation_id and not self.rotation_start:
            raise ValidationError({"rotation_start": "Give the first day of the rotation."})


class CertificationType(BaseModel):
    """A certification (H2S, IWCF / WellSharp well control, first aid, offshore survival) and its validity."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    validity_months = models.PositiveSmallIntegerField(default=24, validators=[MinValueValidator(1),
                                                                               MaxValueValidator(120)])

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class Certificate(BaseModel):
    """An employee's certificate; ``expires_on`` defaults to issue date + the type's validity."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="certificates")
    certification_type = models.ForeignKey(CertificationType, on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField(max_length=64, blank=True)
    issued_on = models.DateField()
    expires_on = models.DateField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, editable=False,
                                       help_text="When the expiry notice was sent.")

    scope = FieldScope("employee__site__field__code", site="employee__site__code")

    class Meta:
        ordering = ["expires_on"]
        indexes = [models.Index(fields=["expires_on", "notified_at"])]

    def __str__(self):
        return f"{self.certification_type.code} {self.employee} (expires {self.expires_on})"

    def save(self, *args, **kwargs):
        if not self.expires_on and self.issued_on and self.certification_type_id:
            months = self.certification_type.validity_months
            year, month = divmod(self.issued_on.month - 1 + months, 12)
            day = min(self.issued_on.day, 28)
            self.expires_on = dt.date(self.issued_on.year + year, month + 1, day)
        super().save(*args, **kwargs)

    def clean(self):
        if self.expires_on and self.issued_on and self.expires_on <= self.issued_on:
            raise ValidationError({"expires_on": "A certificate expires after it is issued."})

    def valid_on(self, day: dt.date) -> bool:
        return self.issued_on <= day <= self.expires_on


class Crew(BaseModel):
    """A crew at a site, optionally working on a rig; it may require certifications of its members."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="crews")
    name = models.CharField(max_length=80)
    rig = models.ForeignKey("drilling.Rig", null=True, blank=True, on_delete=models.SET_NULL, related_name="crews")
    required_certifications = models.ManyToManyField(CertificationType, blank=True, related_name="crews")

    scope = FieldScope("site__field__code", site="site__code")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="hr_crew_unique_name")]

    def __str__(self):
        return self.name


class RigCertificationRequirement(BaseModel):
    """A certification everyone crewing a rig must hold (e.g. IWCF on a drilling rig)."""

    rig = models.ForeignKey("drilling.Rig", on_delete=models.CASCADE, related_name="certification_requirements")
    certification_type = models.ForeignKey(CertificationType, on_delete=models.PROTECT, related_name="+")

    scope = FieldScope("rig__site__field__code", site="rig__site__code")

    class Meta:
        ordering = ["rig__name", "certification_type__code"]
        constraints = [models.UniqueConstraint(fields=["rig", "certification_type"], name="hr_rig_req_unique")]

    def __str__(self):
        return f"{self.rig}: {self.certification_type}"


class CrewAssignment(BaseModel):
    """An employee on a crew from ``start_date`` (to ``end_date``), made by ``services.assign_to_crew``."""

    crew = models.ForeignKey(Crew, on_delete=models.CASCADE, related_name="assignments")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="assignments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    scope = FieldScope("crew__site__field__code", site="crew__site__code")

    class Meta:
        ordering = ["-start_date"]
        constraints = [models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                                              name="hr_assignment_dates")]

    def __str__(self):
        return f"{self.employee} on {self.crew} from {self.start_date}"


class Timesheet(BaseModel):
    """Hours of one employee on one day for a work order or a job. See the module docstring for its states."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="timesheets")
    date = models.DateField()
    hours = models.DecimalField(**HOURS, validators=[MinValueValidator(0), MaxValueValidator(24)],
                                help_text="Regular hours.")
    overtime_hours = models.DecimalField(**HOURS, default=0, validators=[MinValueValidator(0),
                                                                        MaxValueValidator(24)])
    work_order = models.ForeignKey("maintenance.WorkOrder", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="timesheets")
    job_reference = models.CharField(max_length=64, blank=True, help_text="Job (intervention) or DDR reference.")
    afe_line = models.ForeignKey("finance.AFELine", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cost_center = models.ForeignKey("finance.CostCenter", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    notes = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=TimesheetStatus.choices, default=TimesheetStatus.DRAFT,
                              editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0, editable=False)

    scope = FieldScope("employee__site__field__code", site="employee__site__code")
    rbac = {
        rbac.SUPERVISOR: ("view", "add", "change", "approve"),
        rbac.OPERATOR: ("view", "add", "change"),
        rbac.VIEWER: rbac.READ,
    }

    class Meta:
        ordering = ["-date"]
        permissions = [("approve_timesheet", "Can approve or reject timesheets")]
        constraints = [models.CheckConstraint(condition=Q(hours__lte=24) & Q(overtime_hours__lte=24),
                                              name="hr_timesheet_hours_in_day")]

    def __str__(self):
        return f"{self.employee} {self.date} {self.hours}h"

    def clean(self):
        if (self.hours or 0) + (self.overtime_hours or 0) > 24:
            raise ValidationError({"overtime_hours": "More than 24 hours in a day."})
        if self.afe_line_id and self.cost_center_id:
            raise ValidationError({"cost_center": "Charge an AFE line or a cost centre, not both."})
        if not (self.work_order_id or self.job_reference):
            raise ValidationError({"work_order": "Say which work order or job the hours are for."})
