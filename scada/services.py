"""SCADA business rules: queueing and completing setpoint writes, gateway-side current value persistence, and
applying tag templates to devices (``apply_template``).

WriteCommand state machine: PENDING -> DONE | FAILED. ``request_write`` creates it (range-checked, audited as the
user); the gateway sends it and calls ``complete_write`` (audited as a transition, channel "gateway").
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit
from apps.core.choices import AuditAction
from apps.core.context import Channel, acting, current
from apps.core.permissions import can
from scada import protocols
from scada.choices import Scaling, WriteStatus
from scada.models import Device, Tag, TagTemplate, TagTemplateItem, WriteCommand, substitute


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


# -- Tag templates ---------------------------------------------------------------------------------------------
LIMIT_LABELS = {"HH": "high-high", "H": "high", "L": "low", "LL": "low-low"}
prefix_validator = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")


@dataclass
class Applied:
    """What ``apply_template`` did: the template's tags for the prefix, by outcome."""

    template: TagTemplate
    created: list[Tag] = field(default_factory=list)
    updated: list[Tag] = field(default_factory=list)
    unchanged: list[Tag] = field(default_factory=list)
    alarms_written: int = 0

    @property
    def tags(self) -> list[Tag]:
        """The created and updated tags."""
        return self.created + self.updated

    @property
    def all_tags(self) -> list[Tag]:
        return sorted(self.created + self.updated + self.unchanged, key=lambda t: t.name)


def save_template(template: TagTemplate | None, fields: dict, items: list[dict] | None) -> TagTemplate:
    """Create (``template`` None) or update a tag template and its items in one transaction, bumping the version once.
    ``items`` (when not None) is the complete list, matched by suffix: new suffixes are created, changed ones updated,
    missing ones deleted. Validation of the fields and items is the caller's (serializer/full_clean)."""
    if template is None:
        with transaction.atomic():
            template = TagTemplate(**fields)
            template.save()
            with template.editing(bump=False):
                for data in items or []:
                    TagTemplateItem(template=template, **data).save()
        return template
    with template.editing():
        for attr, value in fields.items():
            setattr(template, attr, value)
        template.save()
        if items is not None:
            current = {item.suffix: item for item in template.items.all()}
            for data in items:
                item = current.pop(data["suffix"], None) or TagTemplateItem(template=template)
                for attr, value in data.items():
                    setattr(item, attr, value)
                item.save()
            for item in current.values():
                item.delete()
    return template


def _tag_fields(template, item, device, well, prefix: str, offset: int) -> dict:
    address = substitute(item.address, {"prefix": prefix, "well": well.name if well is not None else None,
                                        "offset": offset, "suffix": item.suffix})
    values = {"device": device, "description": f"{prefix} {item.description}".strip()[:200], "address": address,
              "well": well, **item.tag_values(), "template": template, "template_version": template.version}
    if values["scaling"] == Scaling.MA_4_20:  # the defaults Tag.save() fills in, so a re-apply compares equal
        values["raw_low"] = 4000.0 if values["raw_low"] is None else values["raw_low"]
        values["raw_high"] = 20000.0 if values["raw_high"] is None else values["raw_high"]
    return values


def _differs(tag: Tag, values: dict) -> bool:
    for name, value in values.items():
        if name in ("device", "well", "template"):
            if getattr(tag, f"{name}_id") != (value.pk if value is not None else None):
                return True
        elif getattr(tag, name) != value:
            return True
    return False


def _limit_values(item, limit: dict) -> dict:
    message = limit["message"] or f"{item.description or item.suffix} {LIMIT_LABELS[limit['kind']]}"
    return {"setpoint": limit["setpoint"], "priority": limit["priority"], "deadband": limit["deadband"],
            "on_delay_s": limit["on_delay_s"], "message": message[:200], "operator_action": limit["operator_action"]}


def apply_template(template: TagTemplate, device: Device, well=None, prefix: str = "", offset: int = 0,
                   user=None) -> Applied:
    """Create or update the tags ``<prefix>.<suffix>`` of ``template`` on ``device`` (and their HH/H/L/LL alarm
    definitions), in one transaction. Idempotent: unchanged tags are not written. A tag of that name that the template
    did not create is never touched (the apply fails naming it); tags it created are brought to the template's current
    version. Every address is validated with the device's settings first; errors are keyed
    ``items.<suffix>.<field>`` (or ``prefix``/``device``/``well``) and nothing is written.
    With ``user``, the user must be allowed to apply templates and change the device (scope)."""
    from scada.alarms.models import AlarmDefinition
    from scada.alarms.services import ensure_alarm

    if user is not None:
        if not can(user, TagTemplate, "apply") or not can(user, Tag, "add") or not can(user, Tag, "change"):
            raise PermissionDenied("Your role may not apply tag templates.")
        if not Device.objects.restrict(user, "change").filter(pk=device.pk).exists():
            raise PermissionDenied("The device is outside of your field/site scope.")
    offset = int(offset or 0)
    context = acting(Channel.SYSTEM, user=user) if user is not None and current().actor is None else nullcontext()
    with context, transaction.atomic():
        template = TagTemplate.objects.select_for_update().get(pk=template.pk)
        items = list(template.items.order_by("suffix"))
        errors: dict[str, list[str]] = {}
        if not prefix_validator.fullmatch(prefix or ""):
            errors["prefix"] = ["Letters, digits, '_', '-' and '.' between parts, e.g. W01 or PAD-A.W01."]
        if offset < 0 or offset > 65535:
            errors["offset"] = ["Between 0 and 65535."]
        if protocols.ADDRESS.get(template.protocol) is not protocols.ADDRESS.get(device.protocol):
            errors["device"] = [f"{device.name} speaks {device.protocol}; the template targets {template.protocol}."]
        if well is not None and well.site_id != device.site_id:
            errors["well"] = [f"The well {well.name} is on another site than {device.name}."]
        if not items:
            errors["items"] = ["The template has no items."]
        if errors:
            raise ValidationError(errors)

        existing = {t.name: t for t in Tag.objects.select_for_update().filter(
            name__in=[f"{prefix}.{item.suffix}" for item in items])}
        plan: list[tuple[object, Tag, bool, bool]] = []
        for item in items:
            key = f"items.{item.suffix}"
            name = f"{prefix}.{item.suffix}"
            tag = existing.get(name)
            if tag is not None and tag.template_id != template.pk:
                errors[f"{key}.suffix"] = [f"The tag {name} exists and was not created by this template: it is left "
                                           "alone (rename it or apply with another prefix)."]
                continue
            if tag is not None and tag.device_id != device.pk:
                errors[f"{key}.suffix"] = [f"The tag {name} belongs to another device ({tag.device.name})."]
                continue
            try:
                values = _tag_fields(template, item, device, well, prefix, offset)
            except ValueError as exc:
                errors[f"{key}.address"] = [str(exc)]
                continue
            new = tag is None
            changed = new or _differs(tag, values)
            if new:
                tag = Tag(name=name)
            if changed:
                for attr, value in values.items():
                    setattr(tag, attr, value)
                try:
                    tag.full_clean()
                except ValidationError as exc:
                    for fname, messages in exc.message_dict.items():
                        target = fname if fname in ("well", "equipment") else f"{key}.{fname}"
                        errors.setdefault(target, []).extend(messages)
                    continue
            plan.append((item, tag, new, changed))
        if errors:
            raise ValidationError(errors)

        result = Applied(template=template)
        for item, tag, new, changed in plan:
            if changed:
                tag.save()
            (result.created if new else result.updated if changed else result.unchanged).append(tag)
            current_defs = {d.kind: d for d in AlarmDefinition.objects.filter(tag=tag)} if not new else {}
            for limit in item.limits():
                values = _limit_values(item, limit)
                definition = current_defs.get(limit["kind"])
                if definition is not None and all(getattr(definition, k) == v for k, v in values.items()):
                    continue
                definition = definition or AlarmDefinition(tag=tag, kind=limit["kind"])
                for attr, value in values.items():
                    setattr(definition, attr, value)
                definition.full_clean()
                definition.save()
                ensure_alarm(definition)
                result.alarms_written += 1
        return result
