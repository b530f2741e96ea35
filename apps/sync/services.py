"""Sync business rules: edge credentials, applying a batch of events (hub push, edge pull), the hub feed, status and
backlog alerts, quarantine handling.

Applying a batch is idempotent: an event already received from that edge is answered ``duplicate``; an event older
than the version already applied to its record is ``stale``; both count as delivered for the edge. Invalid events are
``rejected`` with the reason and are not recorded, so the edge may retry them after a fix.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import re
import secrets
import shutil
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import orjson
import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, F, Min, UUIDField, Value
from django.db.models.constants import OnConflict
from django.db.models.deletion import ProtectedError, RestrictedError
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.core.context import Channel, acting
from apps.sync import registry
from apps.sync.choices import AlertLevel, EventState, Op, Outcome
from apps.sync.models import AggregateVersion, EdgeCredential, OutboxEvent, ReceivedEvent, SyncState

log = logging.getLogger(__name__)

SYNC_SCOPE = "sync"
_LOCK_NAMESPACE = 0x53594E43  # "SYNC": advisory lock class of the per-origin apply lock
HUB_ORIGIN = "hub"


# --- Credentials (hub) -------------------------------------------------------------------------------------------
def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_token(edge_id: str) -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return f"{edge_id}:{secret}", _hash(secret)


@transaction.atomic
def issue_credential(edge_id: str, description: str = "") -> tuple[EdgeCredential, str]:
    """Create (or re-enable) the credential of ``edge_id``; returns it and the token, shown only this once."""
    token, digest = _new_token(edge_id)
    cred, created = EdgeCredential.objects.select_for_update().get_or_create(
        edge_id=edge_id, defaults={"token_hash": digest, "scopes": [SYNC_SCOPE], "description": description}
    )
    if not created:
        raise ValueError(f"Edge {edge_id!r} already has a credential: rotate it instead.")
    return cred, token


@transaction.atomic
def rotate_credential(edge_id: str, grace: timedelta | None = None) -> tuple[EdgeCredential, str]:
    """A new token for ``edge_id``; the previous one stays valid for ``grace`` (SYNC_TOKEN_ROTATION_GRACE_HOURS)."""
    cred = EdgeCredential.objects.select_for_update().get(edge_id=edge_id)
    if grace is None:
        grace = timedelta(hours=settings.SYNC_TOKEN_ROTATION_GRACE_HOURS)
    token, digest = _new_token(edge_id)
    cred.previous_token_hash = cred.token_hash if grace.total_seconds() > 0 else ""
    cred.previous_valid_until = timezone.now() + grace if grace.total_seconds() > 0 else None
    cred.token_hash = digest
    cred.rotated_at = timezone.now()
    cred.is_active = True
    cred.save()
    return cred, token


def revoke_credential(edge_id: str) -> EdgeCredential:
    cred = EdgeCredential.objects.get(edge_id=edge_id)
    cred.is_active = False
    cred.previous_token_hash = ""
    cred.save(update_fields=["is_active", "previous_token_hash"])
    return cred


def authenticate_edge(token: str, scope: str = SYNC_SCOPE) -> EdgeCredential | None:
    """The active credential matching ``<edge_id>:<secret>`` with ``scope``, else None."""
    edge_id, sep, secret = (token or "").partition(":")
    if not sep or not edge_id or not secret:
        return None
    cred = EdgeCredential.objects.filter(edge_id=edge_id, is_active=True).first()
    if cred is None or scope not in (cred.scopes or []):
        return None
    digest = _hash(secret)
    if hmac.compare_digest(digest, cred.token_hash):
        return cred
    if (
        cred.previous_token_hash
        and cred.previous_valid_until
        and cred.previous_valid_until > timezone.now()
        and hmac.compare_digest(digest, cred.previous_token_hash)
    ):
        return cred
    return None


# --- Applying a batch --------------------------------------------------------------------------------------------
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def canonical_uuid(value) -> str:
    """The canonical text of a UUID (lower case, hyphens) without building a UUID object when it already is."""
    if type(value) is str and _UUID_TEXT.match(value):
        return value
    return str(uuid.UUID(str(value)))


def _json_default(value):
    """orjson's fallback: Decimal, timedelta, lazy strings... the way Django's encoder writes them."""
    return _DJANGO_JSON.default(value)


_DJANGO_JSON = DjangoJSONEncoder()


def dumps(value) -> bytes:
    """JSON bytes (orjson: UUID, datetime and enums natively, the rest through DjangoJSONEncoder)."""
    return orjson.dumps(value, default=_json_default)


@dataclass
class _Event:
    index: int
    event_id: str  # canonical UUID text
    sequence: int
    label: str
    aggregate_id: str
    op: str
    payload: dict
    spec: registry.SyncSpec | None = None
    instance: SimpleNamespace | None = None
    wire: dict | None = None
    keys: tuple = ()
    extras: dict | None = None  # payload[registry.EXTRAS_KEY], for the model's apply_extras hook
    preapplied: bool = False  # an append-only record already inserted before the lock (_preapply)


class _Invalid(Exception):
    pass


_OPS = frozenset(Op.values)


def _parse(index: int, raw) -> _Event:
    if not isinstance(raw, dict):
        raise _Invalid("event: must be an object")
    try:
        event_id = canonical_uuid(raw.get("event_id"))
    except ValueError:
        raise _Invalid("event_id: not a UUID")
    sequence = raw.get("sequence")
    if type(sequence) is not int or sequence < 0:
        raise _Invalid("sequence: must be a non-negative integer")
    op = raw.get("op")
    if op not in _OPS:
        raise _Invalid(f"op: must be one of {', '.join(Op.values)}")
    payload = raw.get("payload", {})
    if not isinstance(payload, dict):
        raise _Invalid("payload: must be an object")
    label = str(raw.get("aggregate_type") or "")
    aggregate_id = str(raw.get("aggregate_id") or "")
    return _Event(index, event_id, sequence, label, aggregate_id, op, payload)


# A compiled validator per synced model (the hub's hot path). For each field, a check that *proves* a JSON value
# valid and storable as it is (PostgreSQL converts it); when it cannot (another type, an empty value, a failed
# validator, a field type it does not know), that one field takes Django's path (to_python, validate, validators),
# which accepts exactly what it accepted before and words the reason. So the check never accepts what Django
# would reject; it only skips building Python objects for the values that are plainly right.
_STR_KINDS = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
_INT_KINDS = {"IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
              "PositiveSmallIntegerField", "PositiveBigIntegerField", "AutoField", "BigAutoField", "SmallAutoField"}


def _fast_check(f):
    """``check(value) -> bool`` for field ``f``, or None when the field always takes Django's path."""
    kind = f.get_internal_type()
    nullable = f.null and f.blank  # None then skips validation in Django's path too
    if f.is_relation:  # Django's path: the target's to_python, no validation (the database checks the key)
        target = f.target_field.get_internal_type()
        if target == "UUIDField":
            return lambda v: (type(v) is str and _UUID_TEXT.match(v) is not None) or (v is None and f.null)
        if target in _INT_KINDS:
            return lambda v: type(v) is int or (v is None and f.null)
        return None
    validators = list(f.validators)
    if kind in _STR_KINDS:
        def typed(v):
            return type(v) is str
    elif kind in _INT_KINDS:
        def typed(v):
            return type(v) is int
    elif kind == "FloatField":
        def typed(v):
            return type(v) is float or type(v) is int
    elif kind == "BooleanField":
        def typed(v):
            return type(v) is bool
    elif kind == "JSONField":
        def typed(v):
            return True
    elif kind in ("DecimalField", "GenericIPAddressField"):  # only None here; a value takes Django's path
        def typed(v):
            return False
    elif kind in ("UUIDField", "DateTimeField", "DateField") and not validators and not f.choices:
        parse = {"UUIDField": _UUID_TEXT.match,  # each returns None or raises ValueError when v is not one
                 "DateTimeField": datetime.fromisoformat, "DateField": date.fromisoformat}[kind]

        def check(v):
            if v is None:
                return nullable
            if type(v) is not str:
                return False
            try:
                return parse(v) is not None
            except ValueError:
                return False
        return check
    else:
        return None
    max_length, no_nul, others = None, False, []
    for validator in validators:
        if type(validator) is MaxLengthValidator and not callable(validator.limit_value):
            max_length = validator.limit_value
        elif type(validator) is ProhibitNullCharactersValidator:
            no_nul = True
        else:
            others.append(validator)
    try:
        choices = frozenset(key for key, _label in f.flatchoices) if f.choices else None
    except TypeError:  # unhashable choice keys
        return None
    empty = f.empty_values
    blank = f.blank

    def check(v):
        if v is None:
            return nullable
        if not typed(v):
            return False
        if v in empty:
            return blank
        if choices is not None and v not in choices:
            return False
        if max_length is not None and len(v) > max_length:
            return False
        if no_nul and "\x00" in v:
            return False
        for validator in others:
            try:
                validator(v)
            except Exception:  # noqa: BLE001 - Django's path gives the reason (or raises as it did)
                return False
        return True
    return check


@dataclass
class _Compiled:
    by_attname: dict
    checks: dict
    defaults: list  # (attname, callable or None, constant) for the columns a payload may leave out
    pk: object
    pk_uuid: bool
    shapes: dict = field(default_factory=dict)  # payload keys (in order) -> _Shape


@dataclass
class _Shape:
    """What a payload with these keys (in this order) needs: the checks in key order, the sorted keys written with
    the primary key, and the defaults of the columns it leaves out."""

    checks: list
    keys: tuple
    missing: list


_MAX_SHAPES = 64  # per model: a sender with ever-changing key sets falls back to the per-field path


def _shape(compiled: _Compiled, keys: tuple) -> _Shape:
    pk = compiled.pk.attname
    found = _Shape([compiled.checks[k] for k in keys], tuple(sorted({*keys, pk})),
                   [d for d in compiled.defaults if d[0] not in keys and d[0] != pk])
    if len(compiled.shapes) < _MAX_SHAPES:
        compiled.shapes[keys] = found
    return found


def _compile(spec: registry.SyncSpec) -> _Compiled:
    found = getattr(spec, "_compiled", None)  # cached on the spec: a re-registered model compiles again
    if found is None:
        defaults = []
        for f in spec.model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults.append((f.attname, timezone.now, None))  # raw inserts skip pre_save: fill what is missing
            elif f.has_default() and callable(f.default):
                defaults.append((f.attname, f.get_default, None))
            else:  # no default or a constant one: computed once (a fresh copy per row where it is mutable)
                value = f.get_default()
                defaults.append((f.attname, None, value) if isinstance(value, str | int | float | bool | None)
                                else (f.attname, f.get_default, None))
        pk = spec.model._meta.pk
        found = spec._compiled = _Compiled(
            {f.attname: f for f in spec.fields}, {f.attname: _fast_check(f) for f in spec.fields}, defaults,
            pk, isinstance(pk, UUIDField),
        )
    return found


def _build(ev: _Event, role: str, postgres: bool) -> None:
    """Resolve the model and validate the payload (no database query) into the row to insert: ``ev.wire`` (the
    JSON path on PostgreSQL: the sender's JSON values, PostgreSQL parses them) or ``ev.instance`` (Python values)."""
    spec = registry.spec_for(ev.label)
    if spec is None or not spec.accepts_from(role):
        raise _Invalid(f"aggregate_type: {ev.label!r} is not synced towards this box")
    ev.spec = spec
    compiled = _compile(spec)
    pk = compiled.pk
    try:
        ev.aggregate_id = canonical_uuid(ev.aggregate_id) if compiled.pk_uuid else str(pk.to_python(ev.aggregate_id))
    except (ValueError, DjangoValidationError):
        raise _Invalid("aggregate_id: not a valid primary key")
    if ev.op == Op.DELETE:
        return
    by_attname, checks = compiled.by_attname, compiled.checks
    payload = ev.payload
    if spec.apply_extras is not None and registry.EXTRAS_KEY in payload:
        payload = ev.payload = dict(payload)
        ev.extras = payload.pop(registry.EXTRAS_KEY)
        if not isinstance(ev.extras, dict):
            raise _Invalid(f"payload.{registry.EXTRAS_KEY}: must be an object")
    shape = compiled.shapes.get(tuple(payload))  # the events of a batch mostly share one set of keys, in order
    if shape is None:
        unknown = [k for k in payload if k not in by_attname]
        if unknown:
            raise _Invalid(f"payload: unknown field(s) {', '.join(sorted(unknown))}")
        shape = _shape(compiled, tuple(payload))
    if str(payload.get(pk.attname, ev.aggregate_id)) != ev.aggregate_id:
        raise _Invalid(f"payload.{pk.attname}: differs from aggregate_id")
    json_path = postgres and _json_insertable(spec.model, postgres)
    if json_path and all(check is not None and check(raw)
                         for check, raw in zip(shape.checks, payload.values(), strict=True)):
        # Every value proven valid as it is: the row is the payload plus the key and the defaults.
        wire = dict(payload)
        wire[pk.attname] = ev.aggregate_id
        ev.keys = shape.keys
        for attname, default, constant in shape.missing:
            wire[attname] = constant if default is None else default()
        ev.wire = wire
        return
    wire = {}
    values = {} if not json_path else None
    errors = []
    for attname, raw in payload.items():
        check = checks[attname]
        if json_path and check is not None and check(raw):
            wire[attname] = raw
            continue
        f = by_attname[attname]
        try:
            value = f.to_python(raw)
            # Foreign keys are checked by the database constraints when the batch is applied (no query here).
            if not f.is_relation and not (f.blank and value in f.empty_values):
                f.validate(value, None)
                f.run_validators(value)
        except DjangoValidationError as exc:
            errors.append(f"{f.name}: {' '.join(exc.messages)}")
            continue
        if values is not None:
            values[attname] = value
        # The sender's JSON strings as they came (PostgreSQL parses them); the normalised value otherwise.
        wire[attname] = raw if isinstance(raw, str) and not isinstance(value, bool | int | float | type(None)) \
            else value
    if errors:
        raise _Invalid(f"payload: {'; '.join(errors)}")
    wire[pk.attname] = ev.aggregate_id
    ev.keys = tuple(sorted(wire))
    for attname, default, constant in compiled.defaults:
        if attname not in wire:
            wire[attname] = constant if default is None else default()
    if json_path:
        ev.wire = wire
        return
    values[pk.attname] = pk.to_python(ev.aggregate_id)
    for attname, _default, _constant in compiled.defaults:
        if attname not in values:
            values[attname] = wire[attname]
    ev.instance = SimpleNamespace(**values)  # a row for the raw insert (no model __init__ per event)


def _upsert(spec: registry.SyncSpec, events: list[_Event]) -> None:
    """INSERT ... ON CONFLICT (pk) DO UPDATE the payload fields, in raw mode (the sender's timestamps are kept):
    one statement per set of payload keys (normally one per model and batch)."""
    model = spec.model
    meta = model._meta
    by_keys: dict[tuple, list] = defaultdict(list)
    for ev in events:
        by_keys[ev.keys].append(ev)
    fields = list(meta.concrete_fields)
    for keys, group in by_keys.items():
        update = [f for f in fields if f.attname in keys and not f.primary_key]
        if spec.append_only or not update:
            on_conflict, update_fields = OnConflict.IGNORE, None
        else:
            on_conflict, update_fields = OnConflict.UPDATE, update
        if group[0].wire is not None and group[0].instance is None:
            _pg_json_insert(model, [ev.wire for ev in group], [meta.pk], update_fields or [])
            continue
        objs = [ev.instance for ev in group]
        batch = max(1, connection.ops.bulk_batch_size(fields, objs))
        for start in range(0, len(objs), batch):
            model._base_manager._insert(
                objs[start : start + batch],
                fields=fields,
                raw=True,
                using=connection.alias,
                on_conflict=on_conflict,
                update_fields=update_fields,
                unique_fields=[meta.pk] if on_conflict else None,
            )


def _delete(spec: registry.SyncSpec, events: list[_Event]) -> None:
    ids = [ev.aggregate_id for ev in events]
    with acting(channel=Channel.SYNC):
        spec.model._base_manager.filter(pk__in=ids).delete()


def _apply_group(spec, op, events) -> list[tuple[_Event, str]]:
    """Apply one model's upserts or deletes; on failure retry one by one. Returns the (event, reason) that failed."""
    run = _upsert if op == Op.UPSERT else _delete

    def attempt(group):
        with transaction.atomic():
            _before_hooks(spec, op, group)
            run(spec, group)
            _after_hooks(spec, op, group)
            connection.check_constraints(table_names=[spec.model._meta.db_table])

    try:
        attempt(events)
        return []
    except (DatabaseError, ProtectedError, RestrictedError) as exc:
        if len(events) == 1:
            return [(events[0], _db_reason(exc))]
    failed = []
    for ev in events:
        try:
            attempt([ev])
        except (DatabaseError, ProtectedError, RestrictedError) as exc:
            failed.append((ev, _db_reason(exc)))
    return failed


# Per-model hooks (registry: ``conflicts`` before the upsert, ``apply_extras`` after it), in the group's savepoint:
# a hook refuses with registry.Refused, and the group is retried record by record like any integrity error.
def _before_hooks(spec, op, events) -> None:
    if op == Op.UPSERT and spec.conflicts is not None:
        refused = spec.conflicts({ev.aggregate_id: ev.payload for ev in events})
        if refused:
            raise registry.Refused("; ".join(refused.values()))


def _after_hooks(spec, op, events) -> None:
    if op == Op.UPSERT and spec.apply_extras is not None:
        rows = {ev.aggregate_id: ev.extras for ev in events if ev.extras is not None}
        if rows:
            spec.apply_extras(rows)


def _db_reason(exc) -> str:
    if isinstance(exc, registry.Refused):
        return str(exc)[:500]
    if isinstance(exc, ProtectedError | RestrictedError):
        return "delete refused: other records still refer to it"
    text = str(exc).strip().splitlines()
    kind = "integrity" if isinstance(exc, IntegrityError) else "database"
    return f"{kind}: {text[0] if text else exc.__class__.__name__}"[:500]


def _result(ev: _Event, status: str, reason: str | None = None) -> dict:
    if reason is None:
        return {"event_id": ev.event_id, "status": status}
    return {"event_id": ev.event_id, "status": status, "reason": reason}


def apply_events(raw_events: list, origin: str, *, role: str | None = None, before_lock=None) -> list[dict]:
    """Apply a batch sent by ``origin`` (an edge id, or "hub" for pulled master data) on this box.

    Set-based: one query de-duplicates the whole batch, one query per model reads the applied versions, one
    statement per model applies the newest event of each record, one inserts the receipts and one the versions;
    each event is still validated on its own and answered on its own. Returns one result per input event, in input
    order: {"event_id", "status", "reason"?}.

    The events are parsed and validated before the origin's lock is taken (no database query), so a second batch
    of the same edge is validated while the first one is written; ``before_lock()`` is called between the two (the
    push view waits there for the edge's previous batch, see ``wait_for_predecessor``).
    """
    role = role or settings.EDGE_ROLE
    postgres = connection.vendor == "postgresql"
    results: list[dict | None] = [None] * len(raw_events)
    events: list[_Event] = []
    invalid: dict[int, str] = {}  # event index -> reason; answered only if the event is not a duplicate
    for index, raw in enumerate(raw_events):
        try:
            ev = _parse(index, raw)
        except _Invalid as exc:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            results[index] = {"event_id": str(event_id) if event_id else None, "status": Outcome.REJECTED,
                              "reason": str(exc)}
            continue
        events.append(ev)
        try:
            _build(ev, role, postgres)
        except _Invalid as exc:
            invalid[index] = str(exc)
    tail = max((ev.sequence for ev in events), default=None)
    if postgres:
        _preapply(events, invalid)
    if before_lock is not None:
        before_lock()

    with transaction.atomic(), registry.applying_remote():
        # 0. One batch of an origin at a time: with several forwarders, a batch must see the versions committed by
        #    the batch before it, or an older event could overwrite a newer one (SQLite writers are serial anyway).
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_NAMESPACE, origin])
        # 1. De-duplicate: already received from this origin (one query for the batch), or twice in this batch.
        seen = _received(origin, [ev.event_id for ev in events])
        fresh: list[_Event] = []
        for ev in events:
            if ev.event_id in seen:
                results[ev.index] = _result(ev, Outcome.DUPLICATE)
                continue
            seen.add(ev.event_id)
            if ev.index in invalid:
                results[ev.index] = _result(ev, Outcome.REJECTED, invalid[ev.index])
                continue
            fresh.append(ev)

        # 2. Versions: an event not newer than what is applied to its record (same origin) is stale.
        fresh.sort(key=lambda e: e.sequence)
        by_type: dict[str, set[str]] = defaultdict(set)
        for ev in fresh:
            by_type[ev.label].add(ev.aggregate_id)
        for label in [label for label in by_type if registry.spec_for(label).append_only]:
            # An append-only record gets a version row only from a delete (step 4), which hardly ever happens: one
            # probe of the key's prefix instead of looking up every id of the batch.
            if not AggregateVersion.objects.filter(aggregate_type=label).exists():
                del by_type[label]
        versions: dict[tuple, tuple[str, int]] = {}
        for label, agg_ids in by_type.items():
            for chunk in _chunks(agg_ids, 20000):
                for v in _existing(AggregateVersion, "aggregate_id", chunk, aggregate_type=label, per_value=True,
                                   columns=("aggregate_type", "aggregate_id", "origin", "sequence")):
                    versions[(v[0], v[1])] = (v[2], v[3])
        latest: dict[tuple, _Event] = {}
        live: list[_Event] = []
        for ev in fresh:
            key = (ev.label, ev.aggregate_id)
            current = versions.get(key)
            if current is not None and current[0] == origin and current[1] >= ev.sequence:
                results[ev.index] = _result(ev, Outcome.STALE)
                continue
            versions[key] = (origin, ev.sequence)
            latest[key] = ev
            live.append(ev)

        # 3. Apply the last event of each record, model by model (targets of foreign keys first, deletes last).
        groups: dict[tuple[str, str], list[_Event]] = defaultdict(list)
        for ev in latest.values():
            groups[(ev.label, ev.op)].append(ev)
        order = registry.dependency_order({label for label, _op in groups})
        failed: dict[tuple, str] = {}
        plan = [(label, Op.UPSERT) for label in order] + [(label, Op.DELETE) for label in reversed(order)]
        for label, op in plan:
            group = [ev for ev in groups.get((label, op), ()) if not ev.preapplied]
            if group:
                for ev, reason in _apply_group(group[0].spec, op, group):
                    failed[(ev.label, ev.aggregate_id)] = reason

        # 4. Record what was applied (and what was stale) so a redelivery is a duplicate.
        received, new_versions = [], {}
        for ev in live:
            key = (ev.label, ev.aggregate_id)
            if key in failed:
                results[ev.index] = _result(ev, Outcome.REJECTED, failed[key])
                continue
            results[ev.index] = _result(ev, Outcome.ACCEPTED)
            received.append(ev)
            if not (ev.spec.append_only and ev.op == Op.UPSERT):
                # An append-only record (the audit trail) is inserted once and never updated: an older or repeated
                # event of it changes nothing anyway, so it needs no version row (half the bench's version writes).
                new_versions[key] = ev.sequence
        received += [ev for ev in fresh if results[ev.index]["status"] == Outcome.STALE]
        when = timezone.now()
        _record_receipts(origin, received, results, when)
        _record_versions(origin, new_versions, when)
        if origin != HUB_ORIGIN and tail is not None:
            _advance(origin, received, tail)
    return results


def _preapply(events: list[_Event], invalid: dict) -> None:
    """Insert the batch's append-only records (the audit trail, the alarm journal) before the origin's lock, in
    their own short transaction, so that the writes under the lock (the critical path of a pipelined edge) are only
    the ones that need the applied versions. Safe outside the lock: such a record is inserted once and never updated
    (ON CONFLICT DO NOTHING), needs no version check, and a redelivery or a concurrent batch carrying the same record
    inserts nothing. Its event is still de-duplicated and answered under the lock as usual; if that transaction
    fails, the row is already there and the event, sent again, is accepted then (the same row, inserted once).

    A model's group is pre-applied only if it has no hooks and its insert succeeds as a whole; otherwise (a foreign
    key to a record this batch or the one before it brings, a constraint) the group is applied under the lock as
    before, record by record if it must be. Not inside an outer transaction (its row locks would be held across the
    lock and the wait for the predecessor). PostgreSQL only (SQLite writers are serial anyway)."""
    if connection.in_atomic_block:
        return
    groups: dict[str, list[_Event]] = defaultdict(list)
    for ev in events:
        spec = ev.spec
        if (ev.index not in invalid and ev.op == Op.UPSERT and spec is not None and spec.append_only
                and spec.conflicts is None and spec.apply_extras is None):
            groups[ev.label].append(ev)
    for group in groups.values():
        spec = group[0].spec
        try:
            with transaction.atomic(), registry.applying_remote():
                _upsert(spec, group)
                connection.check_constraints(table_names=[spec.model._meta.db_table])
        except DatabaseError as exc:
            log.debug("sync: %s: %d rows left for the locked apply (%s)", spec.label, len(group), _db_reason(exc))
            continue
        for ev in group:
            ev.preapplied = True


def _advance(origin: str, received: list[_Event], tail: int) -> None:
    """The edge's credential: the highest sequence received, and the tail (highest sequence) of the batches
    applied, which the edge's next pipelined batch waits for (``wait_for_predecessor``). One statement."""
    last = max((ev.sequence for ev in received), default=None)
    changes = {"pipeline_tail": Greatest(Coalesce(F("pipeline_tail"), Value(-1)), Value(tail))}
    if last is not None:
        changes["last_sequence"] = Greatest(Coalesce(F("last_sequence"), Value(-1)), Value(last))
    EdgeCredential.objects.filter(edge_id=origin).update(**changes)
    transaction.on_commit(_batch_applied)


_applied = threading.Condition()  # wakes the batches of this process waiting for a predecessor (see below)


def _batch_applied() -> None:
    with _applied:
        _applied.notify_all()


def wait_for_predecessor(edge_id: str, after: int | None, timeout: float | None = None) -> bool:
    """Wait until the edge's batch that ended at sequence ``after`` is applied (the forwarder sends its next batch
    before the answer to the previous one arrives, so both are in the air; applying them in the order sent keeps a
    record's events in order). Gives up after ``timeout`` (SYNC_PIPELINE_WAIT_SECONDS): the previous batch may have
    failed and will be sent again; applying this one first is still correct (an older event then arrives stale).
    Returns whether the predecessor was seen."""
    if after is None:
        return True
    timeout = settings.SYNC_PIPELINE_WAIT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while True:
        # The query runs outside the condition's lock (a slow database must not hold up the commits that notify);
        # a commit in this process wakes the wait at once, another process's is seen within 20 ms.
        tail = EdgeCredential.objects.filter(edge_id=edge_id).values_list("pipeline_tail", flat=True).first()
        if tail is not None and tail >= after:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            log.info("sync: edge %s: the batch ending at #%s did not arrive within %.0f s; applying the next one",
                     edge_id, after, timeout)
            return False
        with _applied:
            _applied.wait(min(left, 0.02))


def _record_receipts(origin: str, received: list[_Event], results: list, when) -> None:
    """One statement for the batch's receipts. On PostgreSQL a COPY: the caller holds the origin's lock and has
    just read which of these events were received before, so every receipt here is new and needs no ON CONFLICT
    (a COPY of 5,000 receipts takes about 60 % of the time of an INSERT ... SELECT unnest(arrays), and it runs
    under the lock, on the pipeline's critical path). Their primary key (edge_id, event_id) is the only index. The
    highest sequence is kept on the edge's credential (instead of an (edge_id, sequence) index on every receipt)."""
    if not received:
        return
    if connection.vendor != "postgresql":
        _raw_insert(ReceivedEvent, [
            {"edge_id": origin, "event_id": ev.event_id, "sequence": ev.sequence, "aggregate_type": ev.label,
             "aggregate_id": ev.aggregate_id, "op": ev.op, "outcome": results[ev.index]["status"],
             "received_at": when.isoformat()}
            for ev in received
        ], conflict=("edge_id", "event_id"))
        return
    head, tail = f"{_copy_text(origin)}\t", f"\t{when.isoformat()}\n"
    data = "".join(
        f"{head}{ev.event_id}\t{ev.sequence}\t{_copy_text(ev.label)}\t{_copy_text(ev.aggregate_id)}\t{ev.op}\t"
        f"{results[ev.index]['status']}{tail}" for ev in received)
    with connection.cursor() as cursor, cursor.copy(
            "COPY sync_receivedevent (edge_id, event_id, sequence, aggregate_type, aggregate_id, op, outcome, "
            "received_at) FROM STDIN") as copy:
        copy.write(data)


_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """``value`` as a field of COPY's text format (backslash, tab, newline and carriage return escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_SPECIAL)
    return value


def _record_versions(origin: str, new_versions: dict, when) -> None:
    """Upsert the applied version of each record (one statement; arrays unnested on PostgreSQL). The key is
    (aggregate_type, aggregate_id); origin/sequence/applied_at are in no index, so the update can be HOT."""
    if not new_versions:
        return
    if connection.vendor != "postgresql":
        _raw_insert(AggregateVersion, [
            {"aggregate_type": label, "aggregate_id": agg, "origin": origin, "sequence": seq,
             "applied_at": when.isoformat()}
            for (label, agg), seq in new_versions.items()
        ], conflict=("aggregate_type", "aggregate_id"), update=("origin", "sequence", "applied_at"))
        return
    keys = list(new_versions)
    with _bound_cursor() as cursor:
        cursor.execute(
            "INSERT INTO sync_aggregateversion (aggregate_type, aggregate_id, origin, sequence, applied_at) "
            "SELECT t, a, %s, s, %s FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS u(t, a, s) "
            "ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET origin = EXCLUDED.origin, "
            "sequence = EXCLUDED.sequence, applied_at = EXCLUDED.applied_at",
            [origin, when, _pg_array([k[0] for k in keys]), _pg_array([k[1] for k in keys]),
             _pg_array([str(new_versions[k]) for k in keys])], prepare=False,
        )


def _pg_array(values: list[str]) -> str:
    """A PostgreSQL array literal of text values (cast in the SQL): one string join for the whole column instead of
    the driver adapting each element (a 5,000-event batch passes eight such columns). Every element is quoted, so
    commas, braces, spaces and NULL-like words stay text; backslashes and double quotes are escaped."""
    if not values:
        return "{}"
    plain = "".join(values)
    if '"' not in plain and "\\" not in plain:
        return '{"' + '","'.join(values) + '"}'
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _received(origin: str, event_ids: list[str]) -> set[str]:
    """The event ids of ``event_ids`` already received from ``origin`` (canonical text)."""
    seen: set[str] = set()
    for chunk in _chunks(event_ids, 20000):
        seen.update(str(e) for e in _existing(ReceivedEvent, "event_id", chunk, edge_id=origin, text=True))
    return seen


_JSON_SAFE = {
    "AutoField", "BigAutoField", "SmallAutoField", "BigIntegerField", "BooleanField", "CharField", "DateField",
    "DateTimeField", "DecimalField", "EmailField", "FloatField", "GenericIPAddressField", "IntegerField",
    "JSONField", "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SlugField",
    "SmallIntegerField", "TextField", "URLField", "UUIDField", "ForeignKey", "OneToOneField",
}
_insertable: dict = {}


def _json_insertable(model, postgres: bool | None = None) -> bool:
    """PostgreSQL and only plain column types: rows can travel as one JSON document (json_populate_recordset)."""
    if not (connection.vendor == "postgresql" if postgres is None else postgres):
        return False
    found = _insertable.get(model)
    if found is None:
        found = _insertable[model] = all(_json_safe(f) for f in model._meta.concrete_fields)
    return found


def _json_safe(f) -> bool:
    kind = f.get_internal_type()
    if kind not in _JSON_SAFE or type(f).__module__.split(".")[0] != "django" or f.attname != f.column:
        return False  # json_populate_recordset matches JSON keys (attnames) to column names
    return kind not in ("ForeignKey", "OneToOneField") or f.target_field.get_internal_type() in _JSON_SAFE


@contextmanager
def _bound_cursor():
    """A cursor on Django's PostgreSQL connection (in its transaction) that sends the parameters apart from the
    statement (server-side binding). Django's psycopg cursors bind client-side: each value is escaped and pasted into
    the SQL text, which PostgreSQL then lexes character by character. For the hub's large parameters (the batch's
    JSON document, the comma-joined id lists, the array literals, megabytes per batch) that double handling was about
    a tenth of the hub process's CPU (py-spy). Errors are Django's (IntegrityError, ...), as from connection.cursor().
    Not prepared: the statements differ by model and key set, and a prepared plan would outlive a schema change."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _pg_json_insert(model, rows: list[dict], conflict: list, update: list, chunk: int = 20000) -> None:
    """INSERT ... SELECT FROM json_populate_recordset(...) ON CONFLICT: PostgreSQL converts the values, so a batch
    costs one JSON encode (orjson) instead of a driver adaptation per value (the hub's hot path). Every row has the
    same keys (the columns inserted). ``json``, not ``jsonb``: the document is read once, so building jsonb's
    binary form first only costs (~10 % of the statement)."""
    qn = connection.ops.quote_name
    meta = model._meta
    table = qn(meta.db_table)
    columns = [f for f in meta.concrete_fields if f.attname in rows[0]]
    names = ", ".join(qn(f.column) for f in columns)
    target = ", ".join(qn(f.column) for f in conflict)
    if not conflict:
        action = ""
    elif update:
        action = f"ON CONFLICT ({target}) DO UPDATE SET " + ", ".join(
            f"{qn(f.column)} = EXCLUDED.{qn(f.column)}" for f in update
        )
    else:
        action = f"ON CONFLICT ({target}) DO NOTHING"
    # Identifiers come from the model's metadata, quoted; the only value is the bound JSON document.
    sql = (f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608
           f"FROM json_populate_recordset(NULL::{table}, %s::json) {action}")
    with _bound_cursor() as cursor:
        for start in range(0, len(rows), chunk):
            cursor.execute(sql, [dumps(rows[start : start + chunk]).decode()], prepare=False)


def _raw_insert(model, rows: list[dict], conflict=(), update=()) -> None:
    """INSERT rows ({attname: value}) without building model instances; ``conflict`` without ``update``: the rows
    already there are left alone (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    if _json_insertable(model):
        _pg_json_insert(model, rows, [meta.get_field(n) for n in conflict] or [],
                        [meta.get_field(n) for n in update])
        return
    rows = [SimpleNamespace(**{f.attname: f.to_python(r[f.attname]) for f in fields}) for r in rows]
    on_conflict = (OnConflict.UPDATE if update else OnConflict.IGNORE) if conflict else None
    batch = max(1, connection.ops.bulk_batch_size(fields, rows))
    for start in range(0, len(rows), batch):
        model._base_manager._insert(
            rows[start : start + batch], fields=fields, raw=True, using=connection.alias, on_conflict=on_conflict,
            update_fields=[meta.get_field(n) for n in update] or None,
            unique_fields=[meta.get_field(n) for n in conflict] or None,
        )


def _existing(model, column: str, values, columns: tuple | None = None, text: bool = False, per_value: bool = False,
              **equal):
    """Rows of ``model`` whose ``column`` is in ``values`` (and ``equal``). On PostgreSQL the list travels as one
    comma-joined parameter (ANY(string_to_array(...))) instead of one placeholder per value; ``text`` reads a single
    column back as text (UUIDs without building UUID objects).

    The planner prices a few thousand index probes above a sequential scan once a table has about a million rows
    (``random_page_cost`` 4): the hub's receipt look-up then read the whole table for every batch (90 ms per 5,000
    events at 1,000,000 receipts, growing with the table). Two ways keep it on the index whatever the settings:
    ``column`` of time-ordered ids (UUIDv7 event ids) is also bounded by the batch's smallest and largest id, so
    the planner sees the narrow range it really is (4 ms); ``per_value`` looks each value up in a LATERAL subquery,
    which can only be an index probe (for random ids, e.g. the versions' record ids)."""
    if connection.vendor != "postgresql":
        qs = model.objects.filter(**{f"{column}__in": list(values)}, **equal)
        return qs.values_list(*columns) if columns else qs.values_list(column, flat=True)
    values = [str(v) for v in values]
    if not values:
        return []
    qn = connection.ops.quote_name
    meta = model._meta
    col = meta.get_field(column)
    uuid_col = col.get_internal_type() == "UUIDField"
    cast = "::uuid[]" if uuid_col else ""
    names = [qn(meta.get_field(c).column) for c in (columns or (column,))]
    where = "".join(f"{qn(meta.get_field(k).column)} = %s AND " for k in equal)
    if per_value:
        inner = ", ".join(names)
        select = ", ".join(f"x.{n}" for n in names)
        if text and not columns:
            select += "::text"
        sql = (f"SELECT {select} FROM unnest(string_to_array(%s, ','){cast}) AS u(v) "  # noqa: S608 (identifiers)
               f"CROSS JOIN LATERAL (SELECT {inner} FROM {qn(meta.db_table)} "
               f"WHERE {where}{qn(col.column)} = u.v LIMIT 1) AS x")
        params = [",".join(values), *equal.values()]
    else:
        select = ", ".join(names)
        if text and not columns:
            select += "::text"
        bound = ""
        params = [*equal.values(), ",".join(values)]
        if uuid_col:  # canonical UUID text sorts as PostgreSQL orders uuids (byte by byte)
            canonical = [canonical_uuid(v) for v in values]
            bound = f" AND {qn(col.column)} BETWEEN %s::uuid AND %s::uuid"
            params += [min(canonical), max(canonical)]
        sql = (f"SELECT {select} FROM {qn(meta.db_table)} WHERE {where}"  # noqa: S608 (identifiers from metadata)
               f"{qn(col.column)} = ANY(string_to_array(%s, ','){cast}){bound}")
    with _bound_cursor() as cursor:
        cursor.execute(sql, params, prepare=False)
        rows = cursor.fetchall()
    return rows if columns else [r[0] for r in rows]


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Hub feed (master data flowing down) ---------------------------------------------------------------------------
def event_dict(ev: OutboxEvent) -> dict:
    return {
        "event_id": str(ev.event_id),
        "sequence": ev.sequence,
        "aggregate_type": ev.aggregate_type,
        "aggregate_id": ev.aggregate_id,
        "op": ev.op,
        "payload": ev.payload,
        "created_at": ev.created_at.isoformat(),
    }


def feed(cursor: int, limit: int) -> dict:
    """Hub-authored events after ``cursor``. Events younger than SYNC_PULL_SETTLE_SECONDS are held back so a
    transaction that took a lower sequence but commits later is not skipped by a cursor that moved past it."""
    settle = timezone.now() - timedelta(seconds=settings.SYNC_PULL_SETTLE_SECONDS)
    rows = list(
        OutboxEvent.objects.filter(sequence__gt=cursor, created_at__lte=settle).order_by("sequence")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "events": [event_dict(r) for r in rows],
        "cursor": rows[-1].sequence if rows else cursor,
        "more": more,
    }


# --- Pulled events this box could not apply (edge) -----------------------------------------------------------------
# A rejected pulled event is skipped (the cursor moves on), so it is logged and kept here as an open problem until an
# event of the same record applies (e.g. a username clash resolved at the edge, then the user sent again by the hub).
# Stored as JSON in its own SyncState row (key below), in the pull's transaction; shown by status() and alerts().
PULL_REJECTIONS = "pull-rejections"
_OPEN_KEPT = 200


def note_pull_results(events: list, results: list[dict]) -> int:
    """Log and record the rejected events of a pulled page; close the open ones a later event applied. Returns the
    number rejected."""
    rejected = [(ev, res) for ev, res in zip(events, results, strict=False) if res["status"] == Outcome.REJECTED]
    for ev, res in rejected:
        log.warning("sync: hub event %s (%s %s) not applied: %s", res.get("event_id"), ev.get("aggregate_type"),
                    ev.get("aggregate_id"), res.get("reason"))
    with transaction.atomic():
        st, _ = SyncState.objects.select_for_update().get_or_create(key=PULL_REJECTIONS)
        data = st.watermarks or {}
        total, open_ = data.get("total", 0), dict(data.get("open", {}))
        if not rejected and not open_:
            return 0
        for ev, res in zip(events, results, strict=False):
            key = f"{ev.get('aggregate_type')}:{ev.get('aggregate_id')}"
            if res["status"] == Outcome.REJECTED:
                total += 1
                open_.pop(key, None)
                open_[key] = {"event_id": res.get("event_id"), "sequence": ev.get("sequence"),
                              "reason": res.get("reason"), "at": _iso(timezone.now())}
            elif res["status"] == Outcome.ACCEPTED:
                open_.pop(key, None)
        open_ = dict(list(open_.items())[-_OPEN_KEPT:])
        if {"total": total, "open": open_} != data:
            st.watermarks = {"total": total, "open": open_}
            st.save(update_fields=["watermarks"])
    return len(rejected)


def pull_rejections() -> dict:
    """{"total": rejected since the start, "open": {"label:id": {event_id, sequence, reason, at}}}."""
    row = SyncState.objects.filter(key=PULL_REJECTIONS).values_list("watermarks", flat=True).first() or {}
    return {"total": row.get("total", 0), "open": row.get("open", {})}


# --- Status and alerts (edge) --------------------------------------------------------------------------------------
def state(key: str = "default") -> SyncState:
    obj, _ = SyncState.objects.get_or_create(key=key)
    return obj


def backlog() -> dict:
    agg = OutboxEvent.objects.filter(state=EventState.PENDING).aggregate(n=Count("sequence"), oldest=Min("created_at"))
    quarantined = OutboxEvent.objects.filter(state=EventState.QUARANTINED).count()
    oldest = agg["oldest"]
    age = int((timezone.now() - oldest).total_seconds()) if oldest else 0
    return {"pending": agg["n"], "quarantined": quarantined, "oldest_pending_age_seconds": age}


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def alerts(status: dict, last_success, consecutive_failures: int = 0) -> dict:
    """Backlog and link alerts (reference thresholds, configurable): level ok/warning/critical and the reasons."""
    s = settings
    reasons: list[tuple[str, str]] = []
    pending, age = status["pending_sync_count"], status["oldest_pending_age_seconds"] or 0
    if pending > s.SYNC_BACKLOG_CRITICAL:
        reasons.append((AlertLevel.CRITICAL, f"{pending} events waiting (critical above {s.SYNC_BACKLOG_CRITICAL})"))
    elif pending > s.SYNC_BACKLOG_WARNING:
        reasons.append((AlertLevel.WARNING, f"{pending} events waiting (warning above {s.SYNC_BACKLOG_WARNING})"))
    if age > s.SYNC_AGE_CRITICAL_SECONDS:
        reasons.append((AlertLevel.CRITICAL, f"oldest waiting event is {age // 3600} h old"))
    elif age > s.SYNC_AGE_WARNING_SECONDS:
        reasons.append((AlertLevel.WARNING, f"oldest waiting event is {age // 60} min old"))
    if pending or consecutive_failures:
        since = (timezone.now() - last_success).total_seconds() if last_success else None
        if since is None or since > s.SYNC_LAST_SUCCESS_CRITICAL_SECONDS:
            reasons.append((AlertLevel.CRITICAL, "no successful sync for over an hour" if since else
                            "never synced successfully"))
        elif since > s.SYNC_LAST_SUCCESS_WARNING_SECONDS:
            reasons.append((AlertLevel.WARNING, f"last successful sync {int(since // 60)} min ago"))
    if consecutive_failures > s.SYNC_FAILURES_CRITICAL:
        reasons.append((AlertLevel.CRITICAL, f"{consecutive_failures} consecutive failed attempts"))
    if status["failed_sync_count"]:
        reasons.append((AlertLevel.WARNING, f"{status['failed_sync_count']} events in quarantine"))
    if status.get("pull_rejected_count"):
        reasons.append((AlertLevel.WARNING, f"{status['pull_rejected_count']} hub records not applied here "
                                            f"(last: {status.get('last_pull_rejection') or '?'})"))
    disk = disk_usage_percent()
    if disk is not None:
        if disk >= s.SYNC_DISK_CRITICAL_PERCENT:
            reasons.append((AlertLevel.CRITICAL, f"disk {disk:.0f}% full"))
        elif disk >= s.SYNC_DISK_WARNING_PERCENT:
            reasons.append((AlertLevel.WARNING, f"disk {disk:.0f}% full"))
    rank = {AlertLevel.OK: 0, AlertLevel.WARNING: 1, AlertLevel.CRITICAL: 2}
    level = max((lvl for lvl, _ in reasons), key=lambda v: rank[v], default=AlertLevel.OK)
    return {"level": str(level), "reasons": [text for _, text in reasons]}


def disk_usage_percent() -> float | None:
    try:
        usage = shutil.disk_usage(settings.SYNC_DISK_PATH)
    except OSError:
        return None
    return 100.0 * usage.used / usage.total if usage.total else None


def status() -> dict:
    """The reference shape, plus the alert level and this box's role and id."""
    st = state()
    b = backlog()
    body = {
        "last_sync_attempt": _iso(st.last_attempt_at),
        "last_successful_sync": _iso(st.last_success_at),
        "cloud_reachable": st.cloud_reachable,
        "pending_sync_count": b["pending"],
        "failed_sync_count": b["quarantined"],
        "oldest_pending_age_seconds": b["oldest_pending_age_seconds"],
    }
    rejections = pull_rejections()["open"]
    body["pull_rejected_count"] = len(rejections)
    body["last_pull_rejection"] = list(rejections.values())[-1]["reason"] if rejections else None
    alert = alerts(body, st.last_success_at, st.consecutive_failures)
    body["alert"] = alert
    body["role"] = settings.EDGE_ROLE
    body["edge_id"] = settings.EDGE_ID
    return {"success": True, "status": body, "pendingCount": b["pending"]}


def check_alerts() -> dict:
    """Compute the alert level and notify administrators when it gets worse (once per level change)."""
    from apps.core.services import notify

    result = status()
    alert = result["status"]["alert"]
    with transaction.atomic():
        st = SyncState.objects.select_for_update().get(key="default")
        rank = {AlertLevel.OK: 0, AlertLevel.WARNING: 1, AlertLevel.CRITICAL: 2}
        if alert["level"] != st.alert_level:
            if rank[alert["level"]] > rank.get(st.alert_level, 0):
                for role in ("admin", "supervisor"):
                    notify(
                        subject=f"Sync {alert['level']}: {alert['reasons'][0]}",
                        body="\n".join(alert["reasons"]),
                        link="/sync/",
                        severity=alert["level"],
                        role=role,
                    )
            st.alert_level = alert["level"]
            st.save(update_fields=["alert_level"])
    return alert


# --- Quarantine ----------------------------------------------------------------------------------------------------
def retry_quarantined(sequences=None) -> int:
    """Put quarantined events (all, or the given sequences) back in the queue with a fresh attempt count."""
    qs = OutboxEvent.objects.filter(state=EventState.QUARANTINED)
    if sequences is not None:
        qs = qs.filter(sequence__in=list(sequences))
    return qs.update(state=EventState.PENDING, attempts=0, next_attempt_at=None)


def export_quarantined(fmt: str = "json") -> str:
    rows = OutboxEvent.objects.filter(state=EventState.QUARANTINED).order_by("sequence")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["sequence", "event_id", "aggregate_type", "aggregate_id", "op", "attempts", "last_error",
                         "created_at", "payload"])
        for r in rows:
            writer.writerow([r.sequence, r.event_id, r.aggregate_type, r.aggregate_id, r.op, r.attempts,
                             r.last_error, r.created_at.isoformat(), json.dumps(r.payload, sort_keys=True)])
        return out.getvalue()
    return json.dumps(
        [{**event_dict(r), "attempts": r.attempts, "last_error": r.last_error} for r in rows], indent=1
    )


def prune_delivered(days: int | None = None) -> int:
    """Delete delivered outbox events (and, on a hub, receipts) older than ``days``. Forgetting an old receipt is
    safe: a very late redelivery of that event is then answered ``stale`` by the record's version, not re-applied."""
    days = settings.SYNC_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = OutboxEvent.objects.filter(state=EventState.DELIVERED, created_at__lt=cutoff).delete()
    receipts, _ = ReceivedEvent.objects.filter(received_at__lt=cutoff).delete()
    return deleted + receipts


def edges_overview():
    """Hub page: each edge with its last sync, reported backlog and quarantine, and events received."""
    return [{"credential": cred, "last_sequence": cred.last_sequence} for cred in EdgeCredential.objects.all()]


def publish_metrics() -> None:
    """Scrape hook of /metrics (apps.ops.metrics): the backlog and the age of the oldest waiting event."""
    from apps.ops import metrics

    b = backlog()
    metrics.set_sync_backlog(pending=b["pending"], oldest_age_seconds=b["oldest_pending_age_seconds"])
