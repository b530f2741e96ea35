"""Alarm transitions (the only place an Alarm's state changes), operator actions, flood detection, KPIs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.core.context import current
from apps.core.permissions import can
from scada.alarms.choices import AlarmEvent, AlarmState, Priority
from scada.alarms.live import alarm_payload
from scada.alarms.models import Alarm, AlarmDefinition, AlarmFlood, AlarmJournal, AlarmNotificationRule

log = logging.getLogger(__name__)

S, E = AlarmState, AlarmEvent
ANNUNCIATING = (S.NORMAL, S.UNACKED, S.ACKED, S.RTN_UNACKED)
SILENCED = (S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE)

FLOOD_WINDOW = timedelta(minutes=10)
FLOOD_ON = 10  # more than this many new alarms in the window raises the flood indicator
FLOOD_OFF = 5  # fewer than this many clears it
CHATTER_WINDOW = timedelta(minutes=1)
CHATTER_COUNT = 3

_BASIC = {
    (S.NORMAL, E.RAISE): S.UNACKED,
    (S.UNACKED, E.ACK): S.ACKED,
    (S.UNACKED, E.CLEAR): S.RTN_UNACKED,
    (S.ACKED, E.CLEAR): S.NORMAL,
    (S.RTN_UNACKED, E.ACK): S.NORMAL,
    (S.RTN_UNACKED, E.RAISE): S.UNACKED,
}


class InvalidTransition(Exception):
    pass


def _back_in_service(alarm: Alarm) -> str:
    return S.UNACKED if alarm.active else S.NORMAL


def next_state(alarm: Alarm, event: str) -> str:
    """The state ``event`` leads to from the alarm's state, or InvalidTransition. The whole state model is here."""
    state = alarm.state
    if event in (E.RAISE, E.CLEAR) and state in SILENCED:
        return state  # tracked (``active``), not annunciated
    if (state, event) in _BASIC:
        return _BASIC[(state, event)]
    if event == E.SHELVE and state in ANNUNCIATING:
        return S.SHELVED
    if event in (E.UNSHELVE, E.SHELVE_EXPIRED) and state == S.SHELVED:
        return _back_in_service(alarm)
    if event == E.SUPPRESS and state in ANNUNCIATING + (S.SHELVED,):
        return S.SUPPRESSED
    if event == E.UNSUPPRESS and state == S.SUPPRESSED:
        return _back_in_service(alarm)
    if event == E.REMOVE_FROM_SERVICE and state != S.OUT_OF_SERVICE:
        return S.OUT_OF_SERVICE
    if event == E.RETURN_TO_SERVICE and state == S.OUT_OF_SERVICE:
        return _back_in_service(alarm)
    name = str(alarm.definition) if alarm.definition_id else "The alarm"
    raise InvalidTransition(f"{name} cannot '{event}' while {alarm.get_state_display().lower()}.")


def transition(
    alarm: Alarm, event: str, *, value: float | None = None, user=None, comment: str = "", at: datetime | None = None
) -> AlarmJournal:
    """Apply one event: new state, bookkeeping, a journal row; side effects after commit. Call inside a transaction."""
    at = at or timezone.now()
    before = alarm.state
    if event == E.RAISE:
        alarm.active = True
    elif event == E.CLEAR:
        alarm.active = False
    after = next_state(alarm, event)
    # Annunciated: the operator is told of an active alarm (a raise, or an active alarm back from shelving etc.).
    annunciated = after == S.UNACKED and before != S.UNACKED
    if annunciated:
        alarm.occurrence += 1
        alarm.raised_at = at
        alarm.cleared_at = None
        alarm.acked_at = alarm.acked_by = None
    if event == E.CLEAR:
        alarm.cleared_at = at
    elif event == E.ACK:
        alarm.acked_at, alarm.acked_by = at, user
    if before == S.SHELVED and after != S.SHELVED:
        alarm.shelved_until, alarm.shelved_by, alarm.shelve_reason = None, None, ""
    if before == S.OUT_OF_SERVICE and after != S.OUT_OF_SERVICE:
        alarm.service_reason = ""
    alarm.pending_since = None if event == E.RAISE else alarm.pending_since
    alarm.clearing_since = None if event == E.CLEAR else alarm.clearing_since
    alarm.state = after
    if value is not None:
        alarm.value = value
    alarm.save()
    actor = user if user is not None else current().actor
    entry = AlarmJournal.objects.create(
        alarm=alarm,
        site_id=alarm.site_id,
        at=at,
        event=event,
        from_state=before,
        to_state=after,
        value=value if value is not None else alarm.value,
        occurrence=alarm.occurrence,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_name=actor.get_username() if actor is not None else "system",
        comment=comment[:300],
    )
    if annunciated:
        evaluate_flood(alarm.site_id, at)
        alarm_id, occurrence = alarm.pk, alarm.occurrence
        transaction.on_commit(lambda: _after_raise(alarm_id, occurrence))
    payload = alarm_payload(alarm, entry)
    transaction.on_commit(lambda: push_alarm(alarm.site_id, payload))
    return entry


def push_alarm(site_id, payload: dict) -> None:
    """Tell the HMI pages of the alarm's site (one group per site); a down channel layer is logged, not raised."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from scada.hmi.publisher import site_group

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(site_group(site_id), {"type": "hmi.alarm", "alarm": payload})
    except Exception as exc:  # noqa: BLE001
        log.warning("could not push alarm %s to the HMI: %s", payload.get("id"), exc)


# -- operator actions (API and websocket share them; the choke point is checked here) ----------------------------------
def _authorised(user, alarm_id, action: str) -> Alarm:
    if not can(user, Alarm, action):
        raise PermissionDenied(f"Your role ({getattr(user, 'role', None)}) may not {action} alarms.")
    alarm = (
        Alarm.objects.restrict(user, action)
        .select_for_update()
        .select_related("definition__tag")
        .filter(pk=alarm_id)
        .first()
    )
    if alarm is None:
        raise Alarm.DoesNotExist("No such alarm in your scope.")
    return alarm


def _operator_event(user, alarm_id, action: str, event: str, comment: str = "", **changes) -> Alarm:
    with transaction.atomic():
        alarm = _authorised(user, alarm_id, action)
        for key, value in changes.items():
            setattr(alarm, key, value)
        transition(alarm, event, user=user, comment=comment)
        record(AuditAction.TRANSITION, alarm.definition, message=f"alarm {event}" + (f": {comment}" if comment else ""))
    return alarm


def acknowledge(user, alarm_id, comment: str = "") -> Alarm:
    return _operator_event(user, alarm_id, "ack", E.ACK, comment)


def shelve(user, alarm_id, reason: str, duration: timedelta) -> Alarm:
    if not reason.strip():
        raise ValueError("A reason is required to shelve an alarm.")
    limit = timedelta(hours=getattr(settings, "ALARM_MAX_SHELVE_HOURS", 24))
    if duration <= timedelta(0) or duration > limit:
        raise ValueError(f"The shelving duration must be between 1 minute and {limit}.")
    until = timezone.now() + duration
    return _operator_event(
        user, alarm_id, "shelve", E.SHELVE, reason, shelved_until=until, shelved_by=user, shelve_reason=reason[:200]
    )


def unshelve(user, alarm_id) -> Alarm:
    return _operator_event(user, alarm_id, "shelve", E.UNSHELVE)


def remove_from_service(user, alarm_id, reason: str) -> Alarm:
    if not reason.strip():
        raise ValueError("A reason is required to take an alarm out of service.")
    return _operator_event(user, alarm_id, "remove", E.REMOVE_FROM_SERVICE, reason, service_reason=reason[:200])


def return_to_service(user, alarm_id) -> Alarm:
    return _operator_event(user, alarm_id, "remove", E.RETURN_TO_SERVICE)


def expire_shelves(now: datetime | None = None) -> int:
    """Shelved alarms whose time is up return by themselves (the gateway calls this every second; so does beat)."""
    now = now or timezone.now()
    count = 0
    for alarm_id in Alarm.objects.filter(state=S.SHELVED, shelved_until__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            alarm = Alarm.objects.select_for_update().filter(pk=alarm_id, state=S.SHELVED).first()
            if alarm is not None:
                transition(alarm, E.SHELVE_EXPIRED, comment="shelving expired", at=now)
                count += 1
    return count


# -- side effects of a raise -------------------------------------------------------------------------------------------
def _after_raise(alarm_id, occurrence: int) -> None:
    alarm = Alarm.objects.select_related("definition__tag__device__site__field", "site").filter(pk=alarm_id).first()
    if alarm is None:
        return
    try:
        notify_rules(alarm)
    except Exception:  # noqa: BLE001 - a failing notification must not break acquisition
        log.exception("alarm notification failed for %s", alarm)
    if alarm.definition.create_work_order and alarm.definition.tag.equipment_id:
        try:
            open_work_order(alarm)
        except Exception:  # noqa: BLE001
            log.exception("automatic work order failed for %s", alarm)


def notify_rules(alarm: Alarm) -> int:
    from apps.core.services import notify

    defn = alarm.definition
    site = alarm.site
    severity = "critical" if defn.priority in (Priority.CRITICAL, Priority.HIGH) else "warning"
    sent = 0
    rules = (
        AlarmNotificationRule.objects.filter(enabled=True)
        .filter(Q(site__isnull=True) | Q(site=site))
        .filter(Q(field__isnull=True) | Q(field_id=site.field_id))
    )
    for rule in rules:
        if Priority.rank(defn.priority) > Priority.rank(rule.min_priority):
            continue
        sent += len(
            notify(
                subject=f"{defn.get_priority_display()} alarm: {defn.tag.name} {defn.message}",
                body=f"{defn.kind} at {site.code}, value {alarm.value}.\nOperator action: "
                f"{defn.operator_action or '-'}",
                link="/alarms/",
                severity=severity,
                role=rule.role,
                site=site.code,
                field=site.field.code,
            )
        )
    return sent


def open_work_order(alarm: Alarm):
    """The ERP+SCADA link: a corrective work order on the tag's equipment, idempotent per occurrence."""
    try:
        from apps.maintenance.services import create_work_order_from_alarm
    except ImportError:
        log.info("maintenance has no create_work_order_from_alarm yet; no work order for %s", alarm)
        return None
    return create_work_order_from_alarm(AlarmOccurrence(alarm))


class AlarmOccurrence:
    """What the maintenance hook receives: one occurrence of one alarm (id is unique per occurrence)."""

    def __init__(self, alarm: Alarm):
        self.alarm = alarm
        self.id = f"{alarm.pk}:{alarm.occurrence}"
        self.equipment = alarm.definition.tag.equipment
        self.message = f"{alarm.definition.tag.name} {alarm.definition.message} (value {alarm.value})"
        self.raised_at = alarm.raised_at
        self.priority = alarm.definition.priority


# -- flood and KPIs ----------------------------------------------------------------------------------------------------
def evaluate_flood(site_id, now: datetime | None = None) -> AlarmFlood:
    now = now or timezone.now()
    count = (
        AlarmJournal.objects.filter(site_id=site_id, to_state=S.UNACKED, at__gt=now - FLOOD_WINDOW)
        .exclude(from_state=S.UNACKED)
        .count()
    )
    flood, _ = AlarmFlood.objects.get_or_create(site_id=site_id)
    changed = False
    if not flood.active and count > FLOOD_ON:
        flood.active, flood.since, changed = True, now, True
    elif flood.active and count < FLOOD_OFF:
        flood.active, flood.since, changed = False, None, True
    if changed or flood.rate != count:
        flood.rate = count
        flood.save()
    return flood


def kpis(user, site_code: str | None = None, hours: int = 24, now: datetime | None = None) -> dict:
    """Alarms per hour, standing alarms (active > 24 h), most frequent and chattering alarms, per area."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    journal = (
        AlarmJournal.objects.restrict(user, "view")
        .filter(to_state=S.UNACKED, at__gte=since)
        .exclude(from_state=S.UNACKED)
    )  # annunciated raises
    alarms = Alarm.objects.restrict(user, "view")
    if site_code:
        journal = journal.filter(site__code=site_code)
        alarms = alarms.filter(site__code=site_code)
    raises = journal.count()
    frequent = list(
        journal.values("site_id", "tag_name", "kind")  # by name: the hub's copy has no alarm link
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    chattering = []
    for row in frequent:
        times = sorted(journal.filter(site_id=row["site_id"], tag_name=row["tag_name"], kind=row["kind"])
                       .values_list("at", flat=True))
        if any(
            times[i + CHATTER_COUNT - 1] - times[i] <= CHATTER_WINDOW for i in range(len(times) - CHATTER_COUNT + 1)
        ):
            chattering.append(f"{row['tag_name']} {row['kind']}")
    standing = alarms.filter(state__in=(S.UNACKED, S.ACKED), raised_at__lte=now - timedelta(hours=24)).count()
    return {
        "site": site_code,
        "period_hours": hours,
        "alarms_per_hour": round(raises / hours, 2),
        "raised": raises,
        "active": alarms.filter(state__in=(S.UNACKED, S.ACKED)).count(),
        "unacknowledged": alarms.filter(state__in=(S.UNACKED, S.RTN_UNACKED)).count(),
        "standing": standing,
        "shelved": alarms.filter(state=S.SHELVED).count(),
        "most_frequent": [
            {"tag": r["tag_name"], "kind": r["kind"], "count": r["n"]}
            for r in frequent
        ],
        "chattering": chattering,
        "flood": list(
            AlarmFlood.objects.restrict(user, "view").filter(active=True).values_list("site__code", flat=True)
        ),
    }


def ensure_alarm(definition: AlarmDefinition) -> Alarm:
    alarm, _ = Alarm.objects.get_or_create(
        definition=definition, defaults={"site_id": definition.tag.device.site_id, "priority": definition.priority}
    )
    if alarm.priority != definition.priority:
        alarm.priority = definition.priority
        alarm.save(update_fields=["priority", "updated_at"])
    return alarm
