"""Maintenance business rules: work-order transitions, parts, preventive generation, alarm hand-off, reliability.

Contract for SCADA (``create_work_order_from_alarm``): ``alarm`` is any object with
- ``id``: the alarm (definition or instance) identifier;
- ``equipment``: a maintenance.Equipment or None (no equipment: no work order, returns None);
- ``message``: text;
- ``raised_at``: an aware datetime of this occurrence;
and optionally ``priority`` (1-4 or "critical/high/medium/low"), ``tag`` and ``value`` (copied into the context).
One work order per (id, raised_at) occurrence: calling again returns the same order.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import audit
from apps.core.choices import AuditAction
from apps.maintenance.choices import PMTrigger, Priority, WorkOrderKind, WorkOrderStatus
from apps.maintenance.models import Equipment, PreventivePlan, WorkOrder, WorkOrderPart

S = WorkOrderStatus
ISSUABLE = (S.PLANNED, S.IN_PROGRESS)


def _locked(wo: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.select_for_update().get(pk=wo.pk)


def _move(wo: WorkOrder, expected: tuple, new: str, message: str = "") -> WorkOrder:
    if wo.status not in expected:
        raise ValidationError({"status": f"Work order {wo.number} is {wo.get_status_display()}; "
                                         f"it cannot become {S(new).label}."})
    old = wo.status
    wo.status = new
    wo.save()
    audit.record(AuditAction.TRANSITION, wo, changes={"status": [old, new]}, message=message)
    return wo


def plan_work_order(wo: WorkOrder, user=None, planned_start=None, planned_end=None) -> WorkOrder:
    """OPEN -> PLANNED."""
    with transaction.atomic():
        wo = _locked(wo)
        wo.planned_start = planned_start or wo.planned_start
        wo.planned_end = planned_end or wo.planned_end
        if wo.planned_start and wo.planned_end and wo.planned_end < wo.planned_start:
            raise ValidationError({"planned_end": "The planned end is before the planned start."})
        wo.planned_at, wo.planned_by = timezone.now(), user
        return _move(wo, (S.OPEN,), S.PLANNED)


def start_work_order(wo: WorkOrder, user=None, at=None) -> WorkOrder:
    """PLANNED -> IN_PROGRESS (actual start)."""
    with transaction.atomic():
        wo = _locked(wo)
        wo.actual_start, wo.started_by = at or timezone.now(), user
        return _move(wo, (S.PLANNED,), S.IN_PROGRESS)


def complete_work_order(wo: WorkOrder, user=None, at=None, failure_mode: str = "", failure_cause: str = "",
                        run_hours=None) -> WorkOrder:
    """IN_PROGRESS -> COMPLETED (actual end). A corrective order needs its failure mode and cause. Completing a
    preventive order moves its plan's last-done point (date, and run hours: the counter or ``run_hours``)."""
    with transaction.atomic():
        wo = _locked(wo)
        wo.failure_mode = failure_mode or wo.failure_mode
        wo.failure_cause = failure_cause or wo.failure_cause
        if wo.kind == WorkOrderKind.CORRECTIVE:
            missing = {f: "Required to complete a corrective order (ISO 14224 code)."
                       for f in ("failure_mode", "failure_cause") if not getattr(wo, f)}
            if missing:
                raise ValidationError(missing)
        wo.actual_end, wo.completed_by = at or timezone.now(), user
        if wo.actual_start and wo.actual_end < wo.actual_start:
            raise ValidationError({"actual_end": "The order cannot end before it started."})
        _move(wo, (S.IN_PROGRESS,), S.COMPLETED)
        if wo.plan_id:
            plan = PreventivePlan.objects.select_for_update().get(pk=wo.plan_id)
            plan.last_done_date = timezone.localdate(wo.actual_end)
            hours = Decimal(str(run_hours)) if run_hours is not None else wo.equipment.run_hours
            plan.last_done_hours = max(hours, wo.due_run_hours or 0) if plan.trigger == PMTrigger.RUN_HOURS else hours
            plan.save()
        return wo


def close_work_order(wo: WorkOrder, user=None) -> WorkOrder:
    """COMPLETED -> CLOSED: reservations not issued are released."""
    from apps.inventory.choices import ReservationStatus
    from apps.inventory.services import release

    with transaction.atomic():
        wo = _locked(wo)
        wo.closed_at, wo.closed_by = timezone.now(), user
        _move(wo, (S.COMPLETED,), S.CLOSED)
        for part in wo.parts.select_related("reservation"):
            if part.reservation and part.reservation.status == ReservationStatus.ACTIVE:
                release(part.reservation)
        return wo


# -- parts ------------------------------------------------------------------------------------------------------------
def add_part(wo: WorkOrder, item, location, quantity) -> WorkOrderPart:
    """Reserve ``quantity`` of ``item`` at ``location`` for the order (refused if not available)."""
    from apps.inventory.services import reserve

    with transaction.atomic():
        wo = _locked(wo)
        if wo.status in (S.COMPLETED, S.CLOSED):
            raise ValidationError({"work_order": f"Work order {wo.number} is {wo.get_status_display()}."})
        if location.warehouse.site.field_id != wo.site.field_id:
            raise ValidationError({"location": "Take parts from a store of the order's field."})
        reservation = reserve(item, location, quantity, reference=wo.number)
        return WorkOrderPart.objects.create(work_order=wo, item=item, location=location, quantity=quantity,
                                            reservation=reservation)


def issue_part(part: WorkOrderPart, quantity=None) -> WorkOrderPart:
    """Issue a reserved part (all that remains by default) to the order: stock down, the moving-average cost booked
    to the order's AFE line or cost centre with its journal entry."""
    from apps.inventory.choices import IssueTarget
    from apps.inventory.services import issue

    with transaction.atomic():
        part = WorkOrderPart.objects.select_for_update().get(pk=part.pk)
        wo = part.work_order
        if wo.status not in ISSUABLE:
            raise ValidationError({"work_order": f"Parts are issued to planned or in-progress orders; {wo.number} is "
                                                 f"{wo.get_status_display()}."})
        if not (wo.afe_line_id or wo.cost_center_id):
            raise ValidationError({"work_order": f"Work order {wo.number} has no AFE line or cost centre to charge."})
        remaining = part.quantity - part.issued_quantity
        quantity = Decimal(str(quantity)) if quantity is not None else remaining
        if quantity <= 0 or quantity > remaining:
            raise ValidationError({"quantity": f"Between 0 and {remaining} remain to issue."})
        move = issue(part.item, part.location, quantity, afe_line=wo.afe_line, cost_center=wo.cost_center,
                     target=IssueTarget.WORK_ORDER, well=wo.equipment.well, reference=wo.number,
                     reservation=part.reservation, description=f"{wo.number} {quantity} x {part.item.sku}")
        part.issued_quantity += quantity
        part.issued_cost += move.total_cost
        part.save()
        return part


def work_order_costs(wo: WorkOrder) -> dict:
    """Parts (issued cost) and labour (approved timesheets) of an order."""
    from django.apps import apps
    from django.db.models import Sum

    parts = wo.parts.aggregate(s=Sum("issued_cost"))["s"] or Decimal("0")
    labour = Decimal("0")
    try:
        Timesheet = apps.get_model("hr", "Timesheet")
    except LookupError:
        Timesheet = None
    if Timesheet is not None:
        labour = Timesheet.objects.filter(work_order=wo, status="approved").aggregate(s=Sum("cost"))["s"] or 0
    return {"parts": parts, "labour": labour, "total": parts + labour}


# -- alarms -----------------------------------------------------------------------------------------------------------
_PRIORITY_WORDS = {"critical": Priority.EMERGENCY, "urgent": Priority.EMERGENCY, "emergency": Priority.EMERGENCY,
                   "high": Priority.HIGH, "medium": Priority.MEDIUM, "low": Priority.LOW}


def _alarm_priority(alarm) -> str:
    value = getattr(alarm, "priority", None)
    if value is None:
        return Priority.HIGH
    text = str(value).lower()
    if text in Priority.values:
        return text
    return _PRIORITY_WORDS.get(text, Priority.HIGH)


def create_work_order_from_alarm(alarm) -> WorkOrder | None:
    """A corrective order for an equipment-linked alarm occurrence (idempotent; see the module docstring)."""
    equipment = getattr(alarm, "equipment", None)
    if equipment is None:
        return None
    raised_at = alarm.raised_at
    key = f"{alarm.id}@{raised_at.isoformat()}"[:120]
    existing = WorkOrder.objects.filter(alarm_key=key).first()
    if existing is not None:
        return existing
    message = str(getattr(alarm, "message", "") or "Alarm")
    context = {"alarm_id": str(alarm.id), "raised_at": raised_at.isoformat(), "message": message}
    for attr in ("tag", "value", "priority", "state"):
        if getattr(alarm, attr, None) is not None:
            context[attr] = str(getattr(alarm, attr))
    try:
        with transaction.atomic():
            return WorkOrder.objects.create(
                equipment=equipment, kind=WorkOrderKind.CORRECTIVE, priority=_alarm_priority(alarm),
                title=f"{equipment.tag_number}: {message}"[:200],
                description=f"Raised from alarm {alarm.id} at {raised_at:%Y-%m-%d %H:%M:%S %Z}.\n{message}",
                alarm_key=key, context=context)
    except IntegrityError:  # the same occurrence handled concurrently
        return WorkOrder.objects.get(alarm_key=key)


# -- preventive maintenance -------------------------------------------------------------------------------------------
def record_run_hours(equipment: Equipment, hours, at=None) -> list[WorkOrder]:
    """Update the run-hours counter (SCADA or manual reading) and generate any run-hours orders now due."""
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
        hours = Decimal(str(hours))
        if hours < equipment.run_hours:
            raise ValidationError({"run_hours": f"The counter cannot go back ({equipment.run_hours} -> {hours})."})
        equipment.run_hours, equipment.run_hours_at = hours, at or timezone.now()
        equipment.save(update_fields=["run_hours", "run_hours_at"])
        return generate_due_work_orders(plans=equipment.pm_plans.filter(trigger=PMTrigger.RUN_HOURS))


def _due(plan: PreventivePlan, today: dt.date):
    """(due_date, due_hours) if the plan is due now, else None."""
    if plan.trigger == PMTrigger.CALENDAR:
        due = plan.next_due_date
        lead = plan.lead_days if plan.lead_days is not None else settings.MAINTENANCE_PM_LEAD_DAYS
        return (due, None) if due and due - dt.timedelta(days=lead) <= today else None
    due_hours = plan.next_due_hours
    return (None, due_hours) if due_hours is not None and plan.equipment.run_hours >= due_hours else None


def generate_due_work_orders(today: dt.date | None = None, plans=None) -> list[WorkOrder]:
    """Create the preventive orders now due, at most one per plan and due point (safe to run any number of times,
    concurrently too: the unique constraints decide)."""
    today = today or timezone.localdate()
    plans = (plans if plans is not None else PreventivePlan.objects.all()).filter(active=True).select_related(
        "equipment")
    created = []
    for plan in plans:
        due = _due(plan, today)
        if due is None:
            continue
        due_date, due_hours = due
        lookup = {"plan": plan, "due_date": due_date} if due_date else {"plan": plan, "due_run_hours": due_hours}
        if WorkOrder.objects.filter(**lookup).exists():
            continue
        point = f"due {due_date:%Y-%m-%d}" if due_date else f"due at {due_hours} h"
        try:
            with transaction.atomic():
                wo = WorkOrder.objects.create(
                    equipment=plan.equipment, kind=WorkOrderKind.PREVENTIVE, priority=plan.priority,
                    title=f"PM {plan.name} ({point})"[:200], description=plan.task, afe_line=plan.afe_line,
                    cost_center=plan.cost_center, plan=plan, due_date=due_date, due_run_hours=due_hours,
                    planned_start=(timezone.make_aware(dt.datetime.combine(due_date, dt.time(7)))
                                   if due_date else None),
                    context={"plan": str(plan.pk), "due": point})
        except IntegrityError:
            continue
        created.append(wo)
    return created


# -- reliability ------------------------------------------------------------------------------------------------------
def reliability_by_class(since=None, queryset=None) -> list[dict]:
    """MTTR and MTBF (hours) per equipment class from closed corrective orders.

    MTTR: mean of (actual end - actual start). MTBF: mean up-time between failures of the same equipment, i.e. from
    the end of one repair to the start of the next failure's repair, pooled over the class.
    """
    orders = (queryset if queryset is not None else WorkOrder.objects.all()).filter(
        kind=WorkOrderKind.CORRECTIVE, status=S.CLOSED, actual_start__isnull=False, actual_end__isnull=False
    ).select_related("equipment")
    if since is not None:
        orders = orders.filter(actual_start__gte=since)
    by_class: dict = {}
    by_equipment: dict = {}
    for wo in orders.order_by("actual_start"):
        cls = wo.equipment.equipment_class
        stats = by_class.setdefault(cls, {"failures": 0, "repair": [], "uptime": []})
        stats["failures"] += 1
        stats["repair"].append((wo.actual_end - wo.actual_start).total_seconds() / 3600)
        previous = by_equipment.get(wo.equipment_id)
        if previous is not None:
            stats["uptime"].append(max((wo.actual_start - previous.actual_end).total_seconds() / 3600, 0))
        by_equipment[wo.equipment_id] = wo
    result = []
    for cls, stats in sorted(by_class.items()):
        result.append({
            "equipment_class": cls,
            "failures": stats["failures"],
            "mttr_hours": round(sum(stats["repair"]) / len(stats["repair"]), 2),
            "mtbf_hours": round(sum(stats["uptime"]) / len(stats["uptime"]), 2) if stats["uptime"] else None,
        })
    return result
