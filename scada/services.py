"""SCADA business rules: queueing and completing setpoint writes, and gateway-side current value persistence.

WriteCommand state machine: PENDING -> DONE | FAILED. ``request_write`` creates it (range-checked, audited as the
user); the gateway sends it and calls ``complete_write`` (audited as a transition, channel "gateway").
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit
from apps.core.choices import AuditAction
from scada.choices import WriteStatus
from scada.models import WriteCommand


def request_write(tag, value: float, user=None) -> WriteCommand:
    """Queue a setpoint write for the gateway (range-checked, tag must be writable)."""
    with transaction.atomic():
        command = WriteCommand(tag=tag, value=value)
        command.full_clean()
        command.save()
        return command


def complete_write(command: WriteCommand, ok: bool, reason: str = "") -> WriteCommand:
    """PENDING -> DONE (ok) or FAILED (with the reason). Only a PENDING command moves."""
    with transaction.atomic():
        locked = WriteCommand.objects.select_for_update().get(pk=command.pk)
        if locked.status != WriteStatus.PENDING:
            raise ValidationError({"status": [f"The write is already {locked.status}."]})
        before = locked.status
        locked.status = WriteStatus.DONE if ok else WriteStatus.FAILED
        locked.reason = "" if ok else reason[:300]
        locked.completed_at = timezone.now()
        locked.save(update_fields=["status", "reason", "completed_at"])
        audit.record(AuditAction.TRANSITION, locked, changes={"status": [before, locked.status]},
                     message=locked.reason or "written")
        return locked
