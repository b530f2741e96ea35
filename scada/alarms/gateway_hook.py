"""Runs the alarm engine inside the SCADA gateway: registered as a sample hook (scada.runtime.gateway).

Each published batch goes through ``AlarmEngine.process`` in the gateway's database thread; about once a second the
engine ticks (delays without new samples, shelve expiry, flood decay); definitions and well statuses are re-read when
they change (checked every few seconds), without a restart. Transitions are handed to ``TRANSITION_LISTENERS`` (the
live HMI publisher subscribes there).

The hook gets live samples only: the gateway keeps historical ones (``Sample.historical``: yesterday's CSV rows,
Sparkplug store-and-forward) out of the hooks, so a backfill never raises or clears an alarm now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db.models import Count, Max

from scada.alarms.engine import AlarmEngine

log = logging.getLogger(__name__)

TRANSITION_LISTENERS: list[Callable] = []  # fn(list[AlarmJournal]) called in the database thread after commit


class AlarmHook:
    CHECK_EVERY_S = 5.0
    TICK_EVERY_S = 1.0

    def __init__(self):
        self.engine: AlarmEngine | None = None
        self.signature = None
        self.last_check = 0.0
        self.last_tick = 0.0

    def _signature(self):
        from apps.wells.models import Well
        from scada.alarms.models import AlarmDefinition

        defs = AlarmDefinition.objects.aggregate(n=Count("id"), at=Max("updated_at"))
        wells = Well.objects.aggregate(at=Max("updated_at"))
        return (defs["n"], defs["at"], wells["at"])

    def run(self, samples) -> int:
        now = time.monotonic()
        if self.engine is None or now - self.last_check >= self.CHECK_EVERY_S:
            self.last_check = now
            signature = self._signature()
            if self.engine is None or signature != self.signature:
                self.engine = self.engine or AlarmEngine()
                count = self.engine.load()
                self.signature = signature
                log.info("alarm engine: %d alarm definitions loaded", count)
        self.engine.process(samples)
        if now - self.last_tick >= self.TICK_EVERY_S:
            self.last_tick = now
            self.engine.tick()
        made = self.engine.drain()
        for listener in TRANSITION_LISTENERS:
            try:
                listener(made)
            except Exception:  # noqa: BLE001 - a broken listener must not stop the alarm engine
                log.exception("alarm transition listener %r failed", listener)
        return len(made)

    async def __call__(self, samples, gateway):
        await gateway.db_call(self.run, samples)


hook = AlarmHook()
