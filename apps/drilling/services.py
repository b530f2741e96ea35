"""Drilling business rules: the DDR workflow, the time-log rules, BHA hour accumulation and the mud-usage hook."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import models, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.core.api.exceptions import Conflict
from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.drilling import timelog
from apps.drilling.choices import ReportStatus
from apps.drilling.models import BhaComponent, BhaRun, DrillingReport, MudUsage

log = logging.getLogger(__name__)

# Callables ``hook(usage: MudUsage) -> str | None`` run for each mud/chemical usage row when a DDR is approved, inside
# the approval transaction. The inventory app registers one (``register_mud_usage_hook``) to issue the stock; the
# returned string (e.g. a stock movement number) is stored in ``MudUsage.stock_reference``. A hook that raises aborts
# the approval (nothing is half-issued).
MUD_USAGE_HOOKS: list[Callable[[MudUsage], str | None]] = []


def register_mud_usage_hook(hook: Callable[[MudUsage], str | None]) -> None:
    if hook not in MUD_USAGE_HOOKS:
        MUD_USAGE_HOOKS.append(hook)


def _transition(report: DrillingReport, new: str, message: str = "") -> None:
    old = report.status
    report.status = new
    record(AuditAction.TRANSITION, report, changes={"status": [old, new]}, message=message)


def time_log_problems(report: DrillingReport) -> list[timelog.Problem]:
    return timelog.check_rows(list(report.time_log.all()), report.day_start)


def time_log_errors(report: DrillingReport) -> dict:
    """The time-log problems as a validation-error body: ``time_log.<row number>`` (rows in time order, 1-based)
    for row problems, ``time_log`` for the total; each message names the rule."""
    errors: dict = {}
    for problem in time_log_problems(report):
        key = "time_log" if problem.rule == "total" or not problem.rows else f"time_log.{problem.rows[-1]}"
        errors.setdefault(key, []).append(f"[{problem.rule}] {problem.message}")
    return errors


@transaction.atomic
def submit(report: DrillingReport, user=None) -> DrillingReport:
    report = DrillingReport.objects.select_for_update().get(pk=report.pk)
    if report.status != ReportStatus.DRAFT:
        raise Conflict(f"Only a draft report can be submitted (this one is {report.get_status_display().lower()}).")
    errors = time_log_errors(report)
    if errors:
        raise ValidationError(errors)
    _transition(report, ReportStatus.SUBMITTED)
    report.submitted_at = timezone.now()
    report.returned_reason = ""
    report.save()
    return report


@transaction.atomic
def approve(report: DrillingReport, user) -> DrillingReport:
    report = DrillingReport.objects.select_for_update().get(pk=report.pk)
    if report.status != ReportStatus.SUBMITTED:
        raise Conflict("Only a submitted report can be approved.")
    errors = time_log_errors(report)  # rows cannot change once submitted, but check again: cheap and certain
    if errors:
        raise ValidationError(errors)
    _transition(report, ReportStatus.APPROVED)
    report.approved_at = timezone.now()
    report.approved_by = user
    report.save()
    for usage in report.mud_usage.select_for_update().filter(stock_issued=False):
        reference = None
        for hook in MUD_USAGE_HOOKS:
            reference = hook(usage) or reference
        if MUD_USAGE_HOOKS:
            usage.stock_issued = True
            usage.stock_reference = (reference or "")[:80]
            usage.save(update_fields=["stock_issued", "stock_reference"])
    return report


@transaction.atomic
def return_to_draft(report: DrillingReport, user, reason: str) -> DrillingReport:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the report goes back to draft."]})
    report = DrillingReport.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.DRAFT:
        raise Conflict("The report is already a draft.")
    _transition(report, ReportStatus.DRAFT, message=reason)
    report.returned_reason = reason
    report.approved_at = None
    report.approved_by = None
    report.save()
    return report


def accumulated_hours(component_type: str, serial_number: str, upto: BhaRun | None = None) -> float:
    """Hours a jar or motor (by serial number) has run, summed over every BHA run it was part of (up to ``upto``,
    ordered by the run's depth-in date of creation)."""
    runs = BhaRun.objects.filter(components__component_type=component_type,
                                 components__serial_number=serial_number).distinct()
    if upto is not None and upto.pk:
        runs = runs.filter(created_at__lte=upto.created_at)
    total = BhaRun.objects.filter(pk__in=runs.values("pk")).aggregate(h=models.Sum("hours"))["h"]
    return float(total or 0)


__all__ = ["BhaComponent", "accumulated_hours", "approve", "register_mud_usage_hook", "return_to_draft", "submit"]
