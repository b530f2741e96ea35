"""HR business rules: certified crew assignments, personnel on board, certificate expiry notices, timesheet approval
(-> labour cost) and the pay-period calculation."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core import audit
from apps.core.choices import AuditAction, Severity
from apps.hr.choices import TimesheetStatus
from apps.hr.models import (
    Certificate,
    CertificationType,
    Crew,
    CrewAssignment,
    Employee,
    RigCertificationRequirement,
    Timesheet,
)

CENT = Decimal("0.01")


# -- certifications and assignments ---------------------------------------------------------------------------------
def required_certifications(crew: Crew, rig=None) -> list[CertificationType]:
    """What the crew requires plus what its rig (or ``rig``) requires."""
    rig = rig if rig is not None else crew.rig
    types = {t.pk: t for t in crew.required_certifications.all()} if crew.pk else {}
    if rig is not None:
        for req in RigCertificationRequirement.objects.filter(rig=rig).select_related("certification_type"):
            types[req.certification_type_id] = req.certification_type
    return sorted(types.values(), key=lambda t: t.code)


def certification_gaps(employee: Employee, types, start: dt.date, end: dt.date | None = None) -> list[str]:
    """Human-readable reasons why ``employee`` is not covered by ``types`` from ``start`` to ``end``."""
    last_day = end or start
    gaps = []
    for ctype in types:
        certs = list(Certificate.objects.filter(employee=employee, certification_type=ctype).order_by("-expires_on"))
        if not certs:
            gaps.append(f"no {ctype.code} ({ctype.name}) certificate")
            continue
        if any(c.issued_on <= start and c.expires_on >= last_day for c in certs):
            continue
        latest = certs[0]
        if latest.expires_on < start:
            gaps.append(f"{ctype.code} certificate expired on {latest.expires_on:%Y-%m-%d}")
        elif latest.issued_on > start:
            gaps.append(f"{ctype.code} certificate only valid from {latest.issued_on:%Y-%m-%d}")
        else:
            gaps.append(f"{ctype.code} certificate expires on {latest.expires_on:%Y-%m-%d}, before "
                        f"{last_day:%Y-%m-%d}")
    return gaps


def require_certified(employee: Employee, codes, start: dt.date, end: dt.date | None = None, what: str = "") -> None:
    """For other apps (e.g. an intervention job needing H2S and well-control certificates): raise a ValidationError on
    ``employee`` naming each certificate (by CertificationType code) the employee lacks over ``start``..``end``."""
    types = list(CertificationType.objects.filter(code__in=list(codes)))
    unknown = set(codes) - {t.code for t in types}
    if unknown:
        raise ValidationError({"certification_type": f"Unknown certification types: {', '.join(sorted(unknown))}."})
    gaps = certification_gaps(employee, types, start, end)
    if gaps:
        target = f" {what}" if what else ""
        raise ValidationError({"employee": f"{employee.first_name} {employee.last_name} cannot be assigned{target}: "
                                           + "; ".join(gaps) + "."})


def assign_to_crew(employee: Employee, crew: Crew, start: dt.date, end: dt.date | None = None) -> CrewAssignment:
    """Put an employee on a crew; refused (ValidationError on ``employee``) when a required certificate is missing
    or not valid for the whole assignment."""
    if end is not None and end < start:
        raise ValidationError({"end_date": "The assignment ends before it starts."})
    with transaction.atomic():
        crew = Crew.objects.select_for_update().get(pk=crew.pk)  # its current rig counts
        if not employee.active:
            raise ValidationError({"employee": f"{employee} is not active."})
        gaps = certification_gaps(employee, required_certifications(crew), start, end)
        where = f"crew {crew.name}" + (f" on rig {crew.rig}" if crew.rig_id else "")
        if gaps:
            raise ValidationError({"employee": f"{employee.first_name} {employee.last_name} cannot join {where}: "
                                               + "; ".join(gaps) + "."})
        overlap = CrewAssignment.objects.filter(employee=employee, crew=crew).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=start))
        if end is not None:
            overlap = overlap.filter(start_date__lte=end)
        if overlap.exists():
            raise ValidationError({"employee": f"{employee} is already on {crew.name} for these dates."})
        return CrewAssignment.objects.create(crew=crew, employee=employee, start_date=start, end_date=end)


def assign_crew_to_rig(crew: Crew, rig, on: dt.date | None = None) -> Crew:
    """Move a crew to a rig: every current member must hold the rig's required certificates."""
    on = on or timezone.localdate()
    with transaction.atomic():
        crew = Crew.objects.select_for_update().get(pk=crew.pk)
        problems = []
        types = required_certifications(crew, rig)
        for a in crew.assignments.filter(start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gte=on)):
            gaps = certification_gaps(a.employee, types, on, a.end_date)
            if gaps:
                problems.append(f"{a.employee.first_name} {a.employee.last_name}: {'; '.join(gaps)}")
        if problems:
            raise ValidationError({"rig": f"Crew {crew.name} cannot work on {rig}: " + " | ".join(problems) + "."})
        crew.rig = rig
        crew.save()
        return crew


def personnel_on_board(site, day: dt.date) -> list[Employee]:
    """Employees on board ``site`` on ``day``: assigned that day to a crew at the site (or on a rig at the site) and
    on the 'on' part of their rotation (employees without a rotation count while assigned)."""
    assignments = CrewAssignment.objects.filter(start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=day)).filter(
        Q(crew__rig__site=site) | Q(crew__rig__isnull=True, crew__site=site)).select_related(
        "employee__rotation", "employee__position")
    people = {}
    for a in assignments:
        e = a.employee
        if not e.active:
            continue
        if e.rotation_id and not e.rotation.on_duty(e.rotation_start, day):
            continue
        people[e.pk] = e
    return sorted(people.values(), key=lambda e: (e.last_name, e.first_name))


def notify_expiring_certificates(today: dt.date | None = None) -> int:
    """Notify (once per certificate) the employee's user and the site's supervisors of certificates expiring within
    HR_CERT_EXPIRY_NOTICE_DAYS days. Returns how many certificates were notified."""
    from apps.core.services import notify

    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=settings.HR_CERT_EXPIRY_NOTICE_DAYS)
    count = 0
    due = Certificate.objects.filter(expires_on__gte=today, expires_on__lte=horizon, notified_at__isnull=True,
                                     employee__active=True).select_related("employee__site__field",
                                                                           "employee__user", "certification_type")
    for cert in due:
        with transaction.atomic():
            locked = Certificate.objects.select_for_update().get(pk=cert.pk)
            if locked.notified_at is not None:
                continue
            e = cert.employee
            days = (cert.expires_on - today).days
            subject = f"{cert.certification_type.code} certificate of {e.first_name} {e.last_name} expires in {days} d"
            body = f"{cert.certification_type.name} (no. {cert.number or '-'}) expires on {cert.expires_on}."
            link = f"/hr/certificates/{cert.pk}/"
            if e.user_id:
                notify([e.user], subject, body, link, Severity.WARNING)
            notify(None, subject, body, link, Severity.WARNING, role="supervisor", field=e.site.field.code,
                   site=e.site.code)
            locked.notified_at = timezone.now()
            locked.save(update_fields=["notified_at"])
            count += 1
    return count


# -- timesheets -----------------------------------------------------------------------------------------------------
def timesheet_cost(ts: Timesheet) -> Decimal:
    rate = ts.employee.rate
    mult = Decimal(str(settings.HR_OVERTIME_MULTIPLIER))
    return (ts.hours * rate + ts.overtime_hours * rate * mult).quantize(CENT, rounding=ROUND_HALF_UP)


def _ts_transition(ts: Timesheet, expected: tuple, new: str, message: str = "") -> Timesheet:
    if ts.status not in expected:
        raise ValidationError({"status": f"The timesheet is {ts.get_status_display()}; it cannot become "
                                         f"{TimesheetStatus(new).label}."})
    old = ts.status
    ts.status = new
    ts.save()
    audit.record(AuditAction.TRANSITION, ts, changes={"status": [old, new]}, message=message)
    return ts


def submit_timesheet(ts: Timesheet) -> Timesheet:
    with transaction.atomic():
        ts = Timesheet.objects.select_for_update().get(pk=ts.pk)
        return _ts_transition(ts, (TimesheetStatus.DRAFT,), TimesheetStatus.SUBMITTED)


def approve_timesheet(ts: Timesheet, approver) -> Timesheet:
    """SUBMITTED -> APPROVED by a supervisor (not the employee): hours x rate booked as labour cost on the
    timesheet's AFE line / cost centre, else its work order's."""
    from apps.finance.services import book_cost

    with transaction.atomic():
        ts = Timesheet.objects.select_for_update(of=("self",)).select_related("employee", "work_order").get(pk=ts.pk)
        if approver is not None and ts.employee.user_id and ts.employee.user_id == approver.pk:
            raise ValidationError({"status": "You cannot approve your own timesheet."})
        afe_line, cost_center = ts.afe_line, ts.cost_center
        if not (afe_line or cost_center) and ts.work_order_id:
            afe_line, cost_center = ts.work_order.afe_line, ts.work_order.cost_center
        if not (afe_line or cost_center):
            raise ValidationError({"afe_line": "No AFE line or cost centre to charge (on the timesheet or its work "
                                               "order)."})
        ts.cost = timesheet_cost(ts)
        ts.approved_by, ts.approved_at = approver, timezone.now()
        _ts_transition(ts, (TimesheetStatus.SUBMITTED,), TimesheetStatus.APPROVED)
        if ts.cost:
            what = ts.work_order.number if ts.work_order_id else ts.job_reference
            book_cost("labour", ts.pk, ts.cost, afe_line=afe_line, cost_center=cost_center, date=ts.date,
                      description=f"Labour {ts.employee.employee_number} {ts.hours}+{ts.overtime_hours} h {what}")
        return ts


def reject_timesheet(ts: Timesheet, approver, reason: str = "") -> Timesheet:
    with transaction.atomic():
        ts = Timesheet.objects.select_for_update().get(pk=ts.pk)
        return _ts_transition(ts, (TimesheetStatus.SUBMITTED,), TimesheetStatus.REJECTED, reason)


def reopen_timesheet(ts: Timesheet) -> Timesheet:
    with transaction.atomic():
        ts = Timesheet.objects.select_for_update().get(pk=ts.pk)
        return _ts_transition(ts, (TimesheetStatus.REJECTED,), TimesheetStatus.DRAFT)


def pay_period(employee: Employee, start: dt.date, end: dt.date) -> dict:
    """Pay from approved timesheets between ``start`` and ``end`` (inclusive): regular and overtime hours and pay,
    and the rotation allowance (per day worked on an 'on' rotation day)."""
    sheets = Timesheet.objects.filter(employee=employee, status=TimesheetStatus.APPROVED, date__gte=start,
                                      date__lte=end)
    regular = sum((t.hours for t in sheets), Decimal("0"))
    overtime = sum((t.overtime_hours for t in sheets), Decimal("0"))
    rate = employee.rate
    mult = Decimal(str(settings.HR_OVERTIME_MULTIPLIER))
    days = {t.date for t in sheets}
    if employee.rotation_id:
        rotation_days = sum(1 for d in days if employee.rotation.on_duty(employee.rotation_start, d))
    else:
        rotation_days = 0
    allowance = Decimal(settings.HR_ROTATION_DAILY_ALLOWANCE) * rotation_days
    regular_pay = (regular * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    overtime_pay = (overtime * rate * mult).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "employee": str(employee.pk), "start": start.isoformat(), "end": end.isoformat(), "rate": rate,
        "regular_hours": regular, "overtime_hours": overtime, "regular_pay": regular_pay,
        "overtime_pay": overtime_pay, "rotation_days": rotation_days, "rotation_allowance": allowance,
        "gross": regular_pay + overtime_pay + allowance, "days_worked": len(days),
    }
