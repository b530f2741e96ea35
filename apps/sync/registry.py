"""Which models sync, in which direction, and the signal handlers that write their outbox events.

A model opts in in one of two ways:

- a class attribute on the model: ``synced = True`` (edge -> hub), or ``synced = "down"`` (hub -> edges: master data
  authored at the hub) or ``synced = "both"``; optional ``sync_exclude = ("field", ...)`` keeps fields out of the
  payload. Models with the attribute are registered automatically when the sync app is ready.
- or a call from the owning app's ``AppConfig.ready()`` (or from apps/sync/apps.py for models whose app must not be
  edited): ``apps.sync.registry.register(Model, direction="up")``.

A post_save/post_delete handler writes one OutboxEvent per change. BaseModel.save()/delete() run inside
``transaction.atomic`` together with their signal handlers, so the outbox row commits with the change or not at all.
Changes applied from the other side (hub push or pull) run under ``applying_remote()`` and write no event (no echo).
"""

from __future__ import annotations

import contextlib
import json
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import post_delete, post_save

UP, DOWN, BOTH = "up", "down", "both"
DIRECTIONS = (UP, DOWN, BOTH)


@dataclass
class SyncSpec:
    model: type[models.Model]
    direction: str = UP
    exclude: frozenset[str] = field(default_factory=frozenset)
    append_only: bool = False  # rows are never updated at the receiving side (audit trail): insert or ignore
    fields: tuple = ()  # concrete fields in the payload (filled by register)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def pushes_from(self, role: str) -> bool:
        """Whether a local change on a box of ``role`` becomes an outbox event."""
        if role == "hub":
            return self.direction in (DOWN, BOTH)
        return self.direction in (UP, BOTH)

    def accepts_from(self, role: str) -> bool:
        """Whether a box of ``role`` applies events of this model sent by the other side."""
        if role == "hub":
            return self.direction in (UP, BOTH)
        return self.direction in (DOWN, BOTH)


_registry: dict[str, SyncSpec] = {}
_applying_remote: ContextVar[bool] = ContextVar("sync_applying_remote", default=False)


@contextlib.contextmanager
def applying_remote():
    """Changes made inside this block came from the other side: they write no outbox event."""
    token = _applying_remote.set(True)
    try:
        yield
    finally:
        _applying_remote.reset(token)


def _user_fk(f) -> bool:
    remote = getattr(f, "remote_field", None)
    return remote is not None and remote.model is not None and remote.model._meta.label == settings.AUTH_USER_MODEL


def register(model: type[models.Model], direction: str = UP, *, exclude=(), append_only: bool = False) -> SyncSpec:
    """Sync ``model``. Foreign keys to users are never sent (user ids differ between boxes: the audit trail keeps the
    user name); ``exclude`` adds more fields to leave out. Idempotent."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    if model._meta.abstract or model._meta.proxy:
        raise ValueError(f"{model._meta.label} cannot be synced (abstract or proxy)")
    if not isinstance(model._meta.pk, models.UUIDField):
        raise ValueError(f"{model._meta.label} needs a UUID primary key to be synced (records merge by UUID)")
    label = model._meta.label_lower
    exclude = frozenset(exclude) | frozenset(getattr(model, "sync_exclude", ()))
    fields = tuple(
        f for f in model._meta.concrete_fields if f.name not in exclude and f.attname not in exclude and not _user_fk(f)
    )
    spec = SyncSpec(model=model, direction=direction, exclude=exclude, append_only=append_only, fields=fields)
    _registry[label] = spec
    post_save.connect(_on_save, sender=model, dispatch_uid=f"sync-save-{label}")
    post_delete.connect(_on_delete, sender=model, dispatch_uid=f"sync-delete-{label}")
    return spec


def register_declared() -> None:
    """Register every installed model that declares ``synced``."""
    from django.apps import apps

    for model in apps.get_models():
        declared = getattr(model, "synced", None)
        if not declared or model._meta.label_lower in _registry:
            continue
        register(model, UP if declared is True else declared)


def spec_for(label: str) -> SyncSpec | None:
    return _registry.get(label)


def specs() -> list[SyncSpec]:
    return list(_registry.values())


def dependency_order(labels) -> list[str]:
    """``labels`` with the targets of foreign keys first (sites before wells), for applying a batch."""
    labels = set(labels)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(label):
        if label in ordered or label in visiting:
            return
        visiting.add(label)
        spec = _registry.get(label)
        if spec is not None:
            for f in spec.fields:
                if f.is_relation and f.remote_field is not None:
                    target = f.remote_field.model._meta.label_lower
                    if target in labels and target != label:
                        visit(target)
        visiting.discard(label)
        ordered.append(label)

    for label in sorted(labels):
        visit(label)
    return ordered


def serialize(spec: SyncSpec, instance) -> dict:
    """The payload: {attname: JSON value} of the synced concrete fields (a full snapshot, so last write wins)."""
    values = {f.attname: f.value_from_object(instance) for f in spec.fields}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _write(spec: SyncSpec, instance, op: str, payload: dict) -> None:
    from apps.sync.choices import EventState
    from apps.sync.models import OutboxEvent

    # On the hub the outbox is the feed edges pull from (never forwarded): its rows are published, not pending.
    OutboxEvent.objects.create(
        edge_id=settings.EDGE_ID,
        state=EventState.DELIVERED if settings.EDGE_ROLE == "hub" else EventState.PENDING,
        aggregate_type=spec.label,
        aggregate_id=str(instance.pk),
        op=op,
        payload=payload,
    )


def _should_write(sender, raw: bool) -> SyncSpec | None:
    if raw or _applying_remote.get():
        return None
    spec = _registry.get(sender._meta.label_lower)
    if spec is None or not spec.pushes_from(settings.EDGE_ROLE):
        return None
    return spec


def _on_save(sender, instance, created=False, raw=False, **kwargs):
    spec = _should_write(sender, raw)
    if spec is not None:
        _write(spec, instance, "upsert", serialize(spec, instance))


def _on_delete(sender, instance, **kwargs):
    spec = _should_write(sender, False)
    if spec is not None:
        _write(spec, instance, "delete", {})


def unregister(model: type[models.Model]) -> None:
    """Stop syncing ``model`` (tests)."""
    label = model._meta.label_lower
    _registry.pop(label, None)
    post_save.disconnect(sender=model, dispatch_uid=f"sync-save-{label}")
    post_delete.disconnect(sender=model, dispatch_uid=f"sync-delete-{label}")
