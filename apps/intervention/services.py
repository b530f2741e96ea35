"""Intervention business rules: job transitions, reel fatigue, toolstring save/approve (all in transactions)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.core.api.exceptions import Conflict
from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.intervention import configurator
from apps.intervention.choices import JobStatus, JobType, ToolstringStatus
from apps.intervention.models import CoiledTubingReel, InterventionJob, Toolstring, ToolstringItem

ITEM_FIELDS = ["name", "tool_type", "od_mm", "fishing_neck_od_mm", "length_m", "weight_kg", "top_connection",
               "top_gender", "bottom_connection", "bottom_gender", "rotating"]


def _transition(obj, field: str, new: str, message: str = ""):
    old = getattr(obj, field)
    setattr(obj, field, new)
    record(AuditAction.TRANSITION, obj, changes={field: [old, new]}, message=message)


@transaction.atomic
def start_job(job: InterventionJob) -> InterventionJob:
    job = InterventionJob.objects.select_for_update().get(pk=job.pk)
    if job.status != JobStatus.PLANNED:
        raise Conflict(f"Only a planned job can start (this one is {job.get_status_display().lower()}).")
    if job.reel_id and job.reel.past_limit:
        raise ValidationError({"reel": f"Reel {job.reel.serial_number} is past its fatigue retirement limit."})
    _transition(job, "status", JobStatus.IN_PROGRESS)
    job.actual_start = timezone.now()
    job.save()
    return job


@transaction.atomic
def complete_job(job: InterventionJob, fatigue_added_pct=None, running_length_m=None) -> InterventionJob:
    """Complete a job; a coiled-tubing job adds its fatigue and running length to the reel."""
    job = InterventionJob.objects.select_for_update().get(pk=job.pk)
    if job.status != JobStatus.IN_PROGRESS:
        raise Conflict("Only a job in progress can be completed.")
    if job.job_type == JobType.COILED_TUBING and job.reel_id:
        if fatigue_added_pct is None or running_length_m is None:
            raise ValidationError({"fatigue_added_pct": ["A coiled-tubing job needs the fatigue consumed and the "
                                                         "running length to complete."]})
        fatigue, length = Decimal(str(fatigue_added_pct)), Decimal(str(running_length_m))
        if fatigue < 0 or length < 0:
            raise ValidationError({"fatigue_added_pct": ["Fatigue and running length cannot be negative."]})
        reel = CoiledTubingReel.objects.select_for_update().get(pk=job.reel_id)
        reel.fatigue_pct = min(Decimal(100), reel.fatigue_pct + fatigue)
        reel.running_length_m += length
        reel.save()
        job.fatigue_added_pct, job.running_length_m = fatigue, length
    _transition(job, "status", JobStatus.COMPLETED)
    job.actual_end = timezone.now()
    job.save()
    return job


@transaction.atomic
def cancel_job(job: InterventionJob, reason: str = "") -> InterventionJob:
    job = InterventionJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (JobStatus.PLANNED, JobStatus.IN_PROGRESS):
        raise Conflict("Only a planned or running job can be cancelled.")
    _transition(job, "status", JobStatus.CANCELLED, message=reason)
    job.save()
    return job


def conditions_for(toolstring: Toolstring) -> configurator.Conditions:
    return configurator.Conditions(well=toolstring.well, wire_size_mm=toolstring.wire_size_mm,
                                   whp_kpa=toolstring.whp_kpa, lubricator_length_m=toolstring.lubricator_length_m)


def check_toolstring(toolstring: Toolstring) -> configurator.Report:
    return configurator.check(list(toolstring.items.all()), conditions_for(toolstring))


@transaction.atomic
def save_toolstring(toolstring: Toolstring, tools: list | None) -> Toolstring:
    """Save a toolstring and (when ``tools`` is given) replace its components; any edit returns it to DRAFT."""
    if toolstring.status == ToolstringStatus.APPROVED and not toolstring._state.adding:
        _transition(toolstring, "status", ToolstringStatus.DRAFT, message="edited after approval")
        toolstring.approved_at = None
        toolstring.approved_by = None
    toolstring.save()
    if tools is not None:
        toolstring.items.all().delete()
        for position, spec in enumerate(tools):
            item = ToolstringItem(toolstring=toolstring, position=position,
                                  component_id=getattr(spec, "component_id", None),
                                  **{f: getattr(spec, f) for f in ITEM_FIELDS})
            if item.fishing_neck_od_mm is None:
                item.fishing_neck_od_mm = None
            item.full_clean(exclude=["toolstring"])
            item.save()
    return toolstring


@transaction.atomic
def approve_toolstring(toolstring: Toolstring, user) -> Toolstring:
    """DRAFT -> APPROVED, refused (400 listing the errors) while the configurator reports an error."""
    toolstring = Toolstring.objects.select_for_update().get(pk=toolstring.pk)
    if toolstring.status == ToolstringStatus.APPROVED:
        raise Conflict("The toolstring is already approved.")
    report = check_toolstring(toolstring)
    if not report.ok:
        raise ValidationError({"tools": [f"[{f['code']}] {f['message']}" for f in report.errors]})
    _transition(toolstring, "status", ToolstringStatus.APPROVED)
    toolstring.approved_at = timezone.now()
    toolstring.approved_by = user
    toolstring.save()
    return toolstring
