"""Maintenance: equipment in the ISO 14224 hierarchy (site > system > unit > subunit > maintainable item), work
orders, their parts, and preventive plans.

WorkOrder state machine (transitions only in apps.maintenance.services, each recording who and when):
    OPEN -> PLANNED -> IN_PROGRESS -> COMPLETED -> CLOSED
Corrective orders carry an ISO 14224 failure mode and cause (required to complete). Parts are reserved from a store
when added and issued (their moving-average cost booked to the order's AFE line or cost centre) while the order is
planned or in progress; closing releases what was reserved but not issued.

PreventivePlan: by calendar interval (days) or by run hours; the generator creates one work order per due point,
never two (unique per plan and due date / due run hours).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.maintenance.choices import (
    Criticality,
    EquipmentClass,
    FailureCause,
    FailureMode,
    PMTrigger,
    Priority,
    TaxonomyLevel,
    WorkOrderKind,
    WorkOrderStatus,
)


class Equipment(BaseModel):
    """A piece of equipment at a site, in the ISO 14224 hierarchy through ``parent`` and ``level``; optionally on a
    well and linked to SCADA tags (by tag name) for its run status and run-hours counter."""

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
    criticality = models.CharField(max_length=1, choices=Criticality.choices, default=Criticality.MEDIUM)
    in_service_date = models.DateField(null=True, blank=True)
    run_hours = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                    help_text="Running-hours counter (from SCADA or entered).")
    run_hours_at = models.DateTimeField(null=True, blank=True, help_text="When the counter was last read.")
    run_status_tag = models.CharField(max_length=120, blank=True, help_text="SCADA tag of the run status.")
    run_hours_tag = models.CharField(max_length=120, blank=True, help_text="SCADA tag of the run-hours counter.")

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: the site's equipment register (work orders point at it)

    class Meta:
        ordering = ["tag_number"]
        verbose_name_plural = "equipment"

    def __str__(self):
        return f"{self.tag_number} {self.name}"

    def clean(self):
        if self.parent_id and self.site_id and self.parent.site_id != self.site_id:
            raise ValidationError({"parent": "The parent equipment is on another site."})
        if self.well_id and self.site_id and self.well.site_id != self.site_id:
            raise ValidationError({"well": "The well is on another site."})
        node, seen = self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "The hierarchy would contain a cycle."})
            seen.add(node.pk)
            node = node.parent


class WorkOrder(BaseModel):
    """A corrective or preventive job on one piece of equipment. See the module docstring for its states."""

    number = models.CharField(max_length=24, unique=True, editable=False)
    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="work_orders", editable=False)
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="work_orders")
    kind = models.CharField(max_length=12, choices=WorkOrderKind.choices, default=WorkOrderKind.CORRECTIVE)
    priority = models.CharField(max_length=1, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=12, choices=WorkOrderStatus.choices, default=WorkOrderStatus.OPEN,
                              editable=False, db_index=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    failure_mode = models.CharField(max_length=3, choices=FailureMode.choices, blank=True)
    failure_cause = models.CharField(max_length=16, choices=FailureCause.choices, blank=True)
    afe_line = models.ForeignKey("finance.AFELine", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="work_orders")
    cost_center = models.ForeignKey("finance.CostCenter", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="work_orders")
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True, editable=False)
    actual_end = models.DateTimeField(null=True, blank=True, editable=False)
    planned_at = models.DateTimeField(null=True, blank=True, editable=False)
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", editable=False)
    plan = models.ForeignKey("maintenance.PreventivePlan", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="work_orders", editable=False)
    due_date = models.DateField(null=True, blank=True, editable=False)
    due_run_hours = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, editable=False)
    alarm_key = models.CharField(max_length=120, null=True, blank=True, unique=True, editable=False,
                                 help_text="The alarm occurrence that raised this order (one order per occurrence).")
    context = models.JSONField(default=dict, blank=True, editable=False,
                               help_text="Context captured when raised (alarm values, plan).")

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: raised and worked at the site

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "due_date"], condition=Q(due_date__isnull=False),
                                    name="maintenance_pm_once_per_due_date"),
            models.UniqueConstraint(fields=["plan", "due_run_hours"], condition=Q(due_run_hours__isnull=False),
                                    name="maintenance_pm_once_per_due_hours"),
        ]
        indexes = [models.Index(fields=["equipment", "kind", "status"])]

    def __str__(self):
        return f"{self.number} {self.title}"

    def clean(self):
        if self.afe_line_id and self.cost_center_id:
            raise ValidationError({"cost_center": "Charge the order to an AFE line or a cost centre, not both."})
        if self.kind == WorkOrderKind.PREVENTIVE and (self.failure_mode or self.failure_cause):
            raise ValidationError({"failure_mode": "Failure codes belong to corrective orders."})
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            raise ValidationError({"planned_end": "The planned end is before the planned start."})

    def save(self, *args, **kwargs):
        if self.equipment_id and not self.site_id:
            self.site_id = self.equipment.site_id
        if not self.number:
            import uuid

            from django.utils import timezone

            self.number = f"WO-{timezone.now():%y%m%d}-{uuid.uuid4().hex[:6].upper()}"
        super().save(*args, **kwargs)


class WorkOrderPart(BaseModel):
    """A spare part for a work order: reserved from a store location, then issued."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="parts")
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))])
    reservation = models.ForeignKey("inventory.Reservation", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", editable=False)
    issued_quantity = models.DecimalField(max_digits=14, decimal_places=3, default=0, editable=False)
    issued_cost = models.DecimalField(max_digits=16, decimal_places=2, default=0, editable=False)

    scope = FieldScope("work_order__site__field__code", site="work_order__site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: goes up with its work order

    class Meta:
        ordering = ["work_order", "created_at"]

    def __str__(self):
        return f"{self.work_order.number}: {self.quantity} x {self.item}"


class PreventivePlan(BaseModel):
    """A preventive maintenance plan on one piece of equipment, by calendar interval or by run hours."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="pm_plans")
    name = models.CharField(max_length=120)
    task = models.TextField(blank=True, help_text="What to do (copied into each work order).")
    trigger = models.CharField(max_length=12, choices=PMTrigger.choices, default=PMTrigger.CALENDAR)
    interval_days = models.PositiveIntegerField(null=True, blank=True)
    interval_hours = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True,
                                         validators=[MinValueValidator(Decimal("1"))])
    start_date = models.DateField(help_text="Calendar plans: the first due date is start date + interval.")
    last_done_date = models.DateField(null=True, blank=True, editable=False)
    last_done_hours = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, editable=False)
    lead_days = models.PositiveIntegerField(null=True, blank=True,
                                            help_text="Generate calendar orders this many days ahead "
                                                      "(default: setting).")
    priority = models.CharField(max_length=1, choices=Priority.choices, default=Priority.MEDIUM)
    afe_line = models.ForeignKey("finance.AFELine", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cost_center = models.ForeignKey("finance.CostCenter", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    active = models.BooleanField(default=True)

    scope = FieldScope("equipment__site__field__code", site="equipment__site__code")
    sync_direction = "up"  # apps.sync: plan of the site's equipment; PM work orders point at it

    class Meta:
        ordering = ["equipment__tag_number", "name"]

    def __str__(self):
        return f"{self.equipment.tag_number}: {self.name}"

    def clean(self):
        if self.trigger == PMTrigger.CALENDAR and not self.interval_days:
            raise ValidationError({"interval_days": "A calendar plan needs an interval in days."})
        if self.trigger == PMTrigger.RUN_HOURS and not self.interval_hours:
            raise ValidationError({"interval_hours": "A run-hours plan needs an interval in hours."})
        if self.afe_line_id and self.cost_center_id:
            raise ValidationError({"cost_center": "Charge the plan to an AFE line or a cost centre, not both."})

    @property
    def next_due_date(self):
        if self.trigger != PMTrigger.CALENDAR or not self.interval_days:
            return None
        import datetime as dt

        return (self.last_done_date or self.start_date) + dt.timedelta(days=self.interval_days)

    @property
    def next_due_hours(self):
        if self.trigger != PMTrigger.RUN_HOURS or not self.interval_hours:
            return None
        return (self.last_done_hours or Decimal("0")) + self.interval_hours
