"""Which models sync, in which direction, and the signal handlers that write their outbox events.

A model opts in in one of two ways:

- a class attribute on the model: ``sync_direction = "up"`` (edge -> hub; ``synced = True`` works too unless the model
  has a field of that name), ``"down"`` (hub -> edges: master data authored at the hub) or ``"both"``; optional
  ``sync_exclude = ("field", ...)`` keeps fields out of the payload and ``sync_delivered_flag = "synced"`` names a
  BooleanField set once the hub has the record. Declaring models are registered when the sync app is ready.
- or a call from the owning app's ``AppConfig.ready()`` (or from apps/sync/apps.py for models whose app must not be
  edited): ``apps.sync.registry.register(Model, direction="up")``.

A post_save/post_delete handler writes one OutboxEvent per change. BaseModel.save()/delete() run inside
``transaction.atomic`` together with their signal handlers, so the outbox row commits with the change or not at all.
Changes applied from the other side (hub push or pull) run under ``applying_remote()`` and write no event (no echo).

Per-model hooks, for what the concrete columns cannot carry (a user's role, an M2M with box-local integer ids, and
its scope rows, whose foreign key to the user is stripped). A model defines them, or passes them to ``register()``:

- ``sync_extras(self) -> dict``: JSON extras sent with each upsert under ``payload["_extras"]`` (natural keys only,
  never box-local ids);
- ``sync_apply_extras(cls, rows: {pk: extras})``: called at the receiver right after the group's upsert, in the same
  transaction (and savepoint), for the records of the group;
- ``sync_conflicts(cls, rows: {pk: payload}) -> {pk: reason}``: called before the group's upsert; a record named
  there is rejected with the reason instead of being applied.

A hook refuses a record by raising ``Refused(reason)``: the group is then retried record by record and only the
refused one is rejected (with that reason, which the edge logs and counts for pulled events). ``touch(model, pks)``
writes a fresh upsert event for records whose related rows changed (signal handlers of M2M and child rows).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models
from django.db.models.signals import post_delete, post_save

UP, DOWN, BOTH = "up", "down", "both"
DIRECTIONS = (UP, DOWN, BOTH)
EXTRAS_KEY = "_extras"  # payload key of the per-model extras (register() refuses a model with a field of that name)


class Refused(IntegrityError):
    """Raised by a per-model hook: this record is not applied here; the message is the reason given back."""


@dataclass
class SyncSpec:
    model: type[models.Model]
    direction: str = UP
    exclude: frozenset[str] = field(default_factory=frozenset)
    append_only: bool = False  # rows are never updated at the receiving side (audit trail): insert or ignore
    fields: tuple = ()  # concrete fields in the payload (filled by register)
    delivered_flag: str | None = None  # BooleanField set once the hub acknowledged the record's latest event
    extras: Callable | None = None  # instance -> dict sent as payload[EXTRAS_KEY]
    apply_extras: Callable | None = None  # ({pk: extras}) -> None, after the group's upsert
    conflicts: Callable | None = None  # ({pk: payload}) -> {pk: reason}, before the group's upsert

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


def register(model: type[models.Model], direction: str = UP, *, exclude=(), append_only: bool = False,
             delivered_flag: str | None = None, extras: Callable | None = None, apply_extras: Callable | None = None,
             conflicts: Callable | None = None) -> SyncSpec:
    """Sync ``model``. Foreign keys to users are never sent (user ids differ between boxes: the audit trail keeps the
    user name); ``exclude`` adds more fields to leave out. ``delivered_flag`` names a BooleanField the forwarder sets
    (by a queryset update: no new event) once the hub acknowledged the record's event. ``extras``/``apply_extras``/
    ``conflicts`` default to the model's ``sync_extras``/``sync_apply_extras``/``sync_conflicts`` (module docstring).
    Idempotent."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    if model._meta.abstract or model._meta.proxy:
        raise ValueError(f"{model._meta.label} cannot be synced (abstract or proxy)")
    if not isinstance(model._meta.pk, models.UUIDField):
        raise ValueError(f"{model._meta.label} needs a UUID primary key to be synced (records merge by UUID)")
    label = model._meta.label_lower
    if any(f.attname == EXTRAS_KEY for f in model._meta.concrete_fields):
        raise ValueError(f"{model._meta.label} has a field named {EXTRAS_KEY!r}, the payload key of sync extras")
    exclude = frozenset(exclude) | frozenset(getattr(model, "sync_exclude", ()))
    fields = tuple(
        f for f in model._meta.concrete_fields if f.name not in exclude and f.attname not in exclude and not _user_fk(f)
    )
    if delivered_flag:
        exclude = exclude | {delivered_flag}
    fields = tuple(f for f in fields if f.name != delivered_flag)
    spec = SyncSpec(model=model, direction=direction, exclude=exclude, append_only=append_only, fields=fields,
                    delivered_flag=delivered_flag,
                    extras=extras or getattr(model, "sync_extras", None),
                    apply_extras=apply_extras or getattr(model, "sync_apply_extras", None),
                    conflicts=conflicts or getattr(model, "sync_conflicts", None))
    _registry[label] = spec
    post_save.connect(_on_save, sender=model, dispatch_uid=f"sync-save-{label}")
    post_delete.connect(_on_delete, sender=model, dispatch_uid=f"sync-delete-{label}")
    return spec


def declared_direction(model) -> str | None:
    """The direction a model class declares: ``sync_direction = "up"|"down"|"both"``, or ``synced = True`` (up).
    A model *field* named ``synced`` (a flag some records carry) is not a declaration."""
    value = getattr(model, "sync_direction", None)
    if value in DIRECTIONS:
        return value
    value = model.__dict__.get("synced")
    if value is True:
        return UP
    if isinstance(value, str) and value in DIRECTIONS:
        return value
    return None


def register_declared() -> None:
    """Register every installed model that declares a sync direction."""
    from django.apps import apps

    for model in apps.get_models():
        direction = declared_direction(model)
        if direction is None or model._meta.label_lower in _registry:
            continue
        register(model, direction, delivered_flag=getattr(model, "sync_delivered_flag", None))


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
    if spec.extras is not None:
        values[EXTRAS_KEY] = spec.extras(instance)
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def event_for(spec: SyncSpec, instance, op: str, payload: dict):
    """The unsaved OutboxEvent of one change (``_write`` saves it; ``sync_backfill`` bulk-inserts them)."""
    from apps.sync.choices import EventState
    from apps.sync.models import OutboxEvent

    # On the hub the outbox is the feed edges pull from (never forwarded): its rows are published, not pending.
    return OutboxEvent(
        edge_id=settings.EDGE_ID,
        state=EventState.DELIVERED if settings.EDGE_ROLE == "hub" else EventState.PENDING,
        aggregate_type=spec.label,
        aggregate_id=str(instance.pk),
        op=op,
        payload=payload,
    )


def _write(spec: SyncSpec, instance, op: str, payload: dict) -> None:
    event_for(spec, instance, op, payload).save(force_insert=True)


def _should_write(sender, raw: bool) -> SyncSpec | None:
    if raw or _applying_remote.get():
        return None
    spec = _registry.get(sender._meta.label_lower)
    if spec is None or not spec.pushes_from(settings.EDGE_ROLE):
        return None
    return spec


def _on_save(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    spec = _should_write(sender, raw)
    if spec is not None and update_fields and spec.exclude.issuperset(update_fields):
        return  # only fields that do not travel changed (a login's last_login): nothing to send
    if spec is not None:
        _write(spec, instance, "upsert", serialize(spec, instance))
        flag = spec.delivered_flag
        if flag and getattr(instance, flag, False):  # changed since the hub got it: waiting again
            sender._base_manager.filter(pk=instance.pk).update(**{flag: False})
            setattr(instance, flag, False)


def _on_delete(sender, instance, **kwargs):
    spec = _should_write(sender, False)
    if spec is not None:
        _write(spec, instance, "delete", {})


def touch(model: type[models.Model], pks) -> int:
    """A fresh upsert event for each record of ``model`` in ``pks`` (read from the database), for a change the
    record's own save() does not see: its M2M rows or child rows carried in its extras. Same rules as a save (no
    event for changes applied from the other side, or for a model this box does not send). Returns the events
    written."""
    spec = _should_write(model, False)
    pks = [pk for pk in pks if pk is not None]
    if spec is None or not pks:
        return 0
    written = 0
    for instance in model._base_manager.filter(pk__in=pks):
        _write(spec, instance, "upsert", serialize(spec, instance))
        written += 1
    return written


def unregister(model: type[models.Model]) -> None:
    """Stop syncing ``model`` (tests)."""
    label = model._meta.label_lower
    _registry.pop(label, None)
    post_save.disconnect(sender=model, dispatch_uid=f"sync-save-{label}")
    post_delete.disconnect(sender=model, dispatch_uid=f"sync-delete-{label}")
