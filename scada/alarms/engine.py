"""The alarm engine: evaluates every sample of an alarmed tag against its definitions, in the gateway process.

- State lives in the database (``Alarm``): a restarted gateway loads it and resumes — an alarm still active is not
  raised twice, and one whose condition cleared while the gateway was down clears on the first sample.
- Bad or stale quality never crosses a limit: it holds the tag's limit alarms as they are and drives its COMM alarm.
- Deadband (hysteresis) and on-/off-delays suppress chattering.
- ``process(samples)`` is synchronous (database work); the gateway calls it through ``sync_to_async`` once per batch,
  and ``tick()`` about once a second for delays, shelve expiry and flood decay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from scada.alarms import services
from scada.alarms.choices import AlarmEvent, AlarmKind, AlarmState
from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal

log = logging.getLogger(__name__)

GOOD, UNCERTAIN, BAD, STALE = 0, 1, 2, 3


@dataclass
class Watched:
    definition: AlarmDefinition
    alarm: Alarm


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def condition(defn: AlarmDefinition, alarm: Alarm, value, quality: int, ts: float) -> bool | None:
    """Is the alarm condition true for this sample? None: cannot tell (hold the current state)."""
    bad = quality in (BAD, STALE)
    if defn.kind == AlarmKind.COMM:
        return bad
    if bad or value is None:
        return None
    sp, db, latched = defn.setpoint, defn.deadband or 0.0, alarm.active
    if defn.kind in (AlarmKind.HIGH_HIGH, AlarmKind.HIGH):
        return value >= (sp - db if latched else sp)
    if defn.kind in (AlarmKind.LOW, AlarmKind.LOW_LOW):
        return value <= (sp + db if latched else sp)
    if defn.kind == AlarmKind.DIGITAL:
        return round(value) == round(sp)
    if defn.kind == AlarmKind.RATE_OF_CHANGE:
        if alarm.last_value is None or alarm.last_ts is None or ts <= alarm.last_ts:
            return None
        rate = abs(value - alarm.last_value) / ((ts - alarm.last_ts) / 60.0)
        return rate >= (sp - db if latched else sp)
    return None


class AlarmEngine:
    def __init__(self):
        self.by_key: dict[int, list[Watched]] = {}
        self.shut_in_wells: set = set()
        self.transitions: list[AlarmJournal] = []  # since the last drain (the live publisher reads them)

    # -- configuration -----------------------------------------------------------------------------------------------
    def load(self) -> int:
        """(Re)load definitions and their states from the database; safe to call while running."""
        from apps.wells.choices import WellStatus

        index: dict[int, list[Watched]] = {}
        definitions = AlarmDefinition.objects.filter(enabled=True, tag__enabled=True).select_related(
            "tag__device", "tag__well")
        for defn in definitions:
            alarm = services.ensure_alarm(defn)
            alarm.definition = defn
            index.setdefault(defn.tag.key, []).append(Watched(defn, alarm))
        self.by_key = index
        self.shut_in_wells = {
            d.definition.tag.well_id for items in index.values() for d in items
            if d.definition.tag.well_id and d.definition.tag.well.status == WellStatus.SHUT_IN
        }
        return sum(len(v) for v in index.values())

    # -- evaluation ----------------------------------------------------------------------------------------------------
    def process(self, samples) -> list[AlarmJournal]:
        """Evaluate a batch of samples (objects with key, ts, value, quality). Returns the transitions made."""
        made: list[AlarmJournal] = []
        relevant = [s for s in samples if s.key in self.by_key]
        if not relevant:
            return made
        with transaction.atomic():
            for sample in relevant:
                for watched in self.by_key[sample.key]:
                    made += self._evaluate(watched, sample)
        self.transitions += made
        return made

    @staticmethod
    def _locked(watched: Watched) -> Alarm:
        """The alarm row, locked and fresh (operators change its state from the web process), carrying over the
        engine-owned fields (delays, previous value) from memory."""
        fresh = Alarm.objects.select_for_update().get(pk=watched.alarm.pk)
        for name in ("pending_since", "clearing_since", "last_value", "last_ts"):
            setattr(fresh, name, getattr(watched.alarm, name))
        fresh.definition = watched.definition
        watched.alarm = fresh
        return fresh

    def _transition(self, watched: Watched, event: str, **kwargs) -> list[AlarmJournal]:
        alarm = self._locked(watched)
        try:
            return [services.transition(alarm, event, **kwargs)]
        except services.InvalidTransition as exc:
            log.info("alarm engine: %s", exc)
            return []

    def _evaluate(self, watched: Watched, sample) -> list[AlarmJournal]:
        defn, alarm = watched.definition, watched.alarm
        out: list[AlarmJournal] = []
        out += self._apply_suppression(watched)
        cond = condition(defn, alarm, sample.value, sample.quality, sample.ts)
        if sample.quality in (GOOD, UNCERTAIN) and sample.value is not None:
            alarm.last_value, alarm.last_ts = sample.value, sample.ts
        if cond is None:
            return out
        now = _dt(sample.ts)
        dirty = False
        if cond and not alarm.active:
            alarm.clearing_since = None
            if alarm.pending_since is None:
                alarm.pending_since, dirty = now, True
            if now - alarm.pending_since >= timedelta(seconds=defn.on_delay_s):
                out += self._transition(watched, AlarmEvent.RAISE, value=sample.value, at=now)
                dirty = False
        elif not cond and alarm.active:
            alarm.pending_since = None
            if alarm.clearing_since is None:
                alarm.clearing_since, dirty = now, True
            if now - alarm.clearing_since >= timedelta(seconds=defn.off_delay_s):
                out += self._transition(watched, AlarmEvent.CLEAR, value=sample.value, at=now)
                dirty = False
        else:
            if alarm.pending_since is not None or alarm.clearing_since is not None:
                alarm.pending_since = alarm.clearing_since = None
                dirty = True
        if dirty or (defn.kind == AlarmKind.RATE_OF_CHANGE and not out):
            watched.alarm.save(update_fields=["pending_since", "clearing_since", "last_value", "last_ts", "updated_at"])
        return out

    def _apply_suppression(self, watched: Watched) -> list[AlarmJournal]:
        defn, alarm = watched.definition, watched.alarm
        shut_in = defn.suppress_when_shut_in and defn.tag.well_id in self.shut_in_wells
        if shut_in and alarm.state not in (AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE):
            return self._transition(watched, AlarmEvent.SUPPRESS, comment="well shut in")
        if not shut_in and alarm.state == AlarmState.SUPPRESSED:
            return self._transition(watched, AlarmEvent.UNSUPPRESS, comment="well back on line")
        return []

    def tick(self, now: datetime | None = None) -> list[AlarmJournal]:
        """Delays that ran out without a new sample, shelve expiry, flood decay."""
        now = now or timezone.now()
        made: list[AlarmJournal] = []
        with transaction.atomic():
            for items in self.by_key.values():
                for watched in items:
                    defn, alarm = watched.definition, watched.alarm
                    if (not alarm.active and alarm.pending_since is not None
                            and now - alarm.pending_since >= timedelta(seconds=defn.on_delay_s)):
                        made += self._transition(watched, AlarmEvent.RAISE, value=alarm.last_value, at=now)
                    elif (alarm.active and alarm.clearing_since is not None
                            and now - alarm.clearing_since >= timedelta(seconds=defn.off_delay_s)):
                        made += self._transition(watched, AlarmEvent.CLEAR, value=alarm.last_value, at=now)
        if services.expire_shelves(now):
            self.load()  # states changed outside the cached objects
        for site_id in {w.alarm.site_id for items in self.by_key.values() for w in items}:
            services.evaluate_flood(site_id, now)
        self.transitions += made
        return made

    def drain(self) -> list[AlarmJournal]:
        out, self.transitions = self.transitions, []
        return out
