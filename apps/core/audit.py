"""The audit trail: ``record()`` writes one AuditEvent from the acting context; signal handlers call it for every
create, update and delete of an audited model, whatever path made the change (API, UI, admin, command, gateway).

Diffs compare the values loaded from the database (``snapshot`` taken in ``from_db``) with the saved values, so an
update costs no extra query. Secrets (``password`` and any ``audit_exclude`` field) are never written.
"""

from __future__ import annotations

import json
import logging

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from apps.core.choices import AuditAction
from apps.core.context import current

log = logging.getLogger(__name__)

ALWAYS_EXCLUDED = {"password", "updated_at", "updated_by", "created_at", "created_by", "last_login"}
_registry: set[type[models.Model]] = set()


def _jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _excluded(instance) -> set[str]:
    return ALWAYS_EXCLUDED | set(getattr(instance, "audit_exclude", ()))


def snapshot(instance) -> dict:
    excluded = _excluded(instance)
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in excluded or field.attname not in instance.__dict__:
            continue
        values[field.attname] = instance.__dict__[field.attname]
    return values


def diff(before: dict | None, after: dict) -> dict:
    """{attname: [before, after]} for the fields that changed (all of them on create)."""
    changes = {}
    for name, new in after.items():
        old = None if before is None else before.get(name)
        if before is None or name not in before or old != new:
            changes[name] = [old, new]
    return _jsonable(changes)


def record(
    action: str,
    obj=None,
    *,
    changes: dict | None = None,
    message: str = "",
    actor=None,
    actor_name: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
):
    """Write one audit row as the current acting context (or an explicit actor)."""
    from apps.core.models import AuditEvent

    ctx = current()
    actor = actor if actor is not None else ctx.actor
    field_code = site_code = ""
    if obj is not None:
        scope = getattr(type(obj), "scope", None)
        if scope is not None:
            field, site = scope.codes(obj)
            field_code, site_code = field or "", site or ""
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor_name or (actor.get_username() if actor is not None else "system"),
        channel=ctx.channel,
        ip=ctx.ip,
        request_id=ctx.request_id,
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=(object_repr or "")[:200],
        changes=changes or {},
        message=message,
        field_code=field_code[:64],
        site_code=site_code[:64],
    )


def _on_save(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata
        return
    after = snapshot(instance)
    before = None if created else getattr(instance, "_audit_snapshot", None)
    changes = diff(before, after)
    instance._audit_snapshot = after
    if not created and not changes:
        return
    record(AuditAction.CREATE if created else AuditAction.UPDATE, instance, changes=changes)


def _on_delete(sender, instance, **kwargs):
    record(AuditAction.DELETE, instance, changes=diff(None, snapshot(instance)))


def register(model: type[models.Model]) -> None:
    """Audit every create/update/delete of ``model`` (done automatically for BaseModel subclasses)."""
    if model in _registry or model._meta.abstract:
        return
    _registry.add(model)
    post_save.connect(_on_save, sender=model, dispatch_uid=f"audit-save-{model._meta.label_lower}")
    post_delete.connect(_on_delete, sender=model, dispatch_uid=f"audit-delete-{model._meta.label_lower}")


def register_all() -> None:
    from django.apps import apps

    from apps.core.models import BaseModel

    for model in apps.get_models():
        if issubclass(model, BaseModel) and getattr(model, "audited", True):
            register(model)
