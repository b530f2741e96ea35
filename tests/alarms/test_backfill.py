"""Backfilled samples and the alarm engine, end to end: a CSV export dropped into a watched directory, the real gateway
with the real alarm hook, the real database. An old row is history: it must neither raise an alarm now nor clear an
active one; a row of the last minutes is a live value and does both."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from django.db import connection

from apps.core.context import Channel, acting
from scada.alarms import services
from scada.alarms.choices import AlarmState as S
from scada.alarms.gateway_hook import AlarmHook
from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal
from scada.runtime.gateway import Gateway
from tests.scada.helpers import until

pytestmark = pytest.mark.django_db(transaction=True)


def _wipe_historian():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM scada_historian")


@pytest.fixture
def thp(transactional_db, tmp_path, settings):
    """A CSV device watching tmp_path/exports with one tag, THP, and its HH alarm at 100 bar."""
    from apps.wells.models import Field, Site
    from scada.models import Device, Tag

    settings.SCADA_LIVE_MAX_AGE_S = 300
    _wipe_historian()
    inbox = tmp_path / "exports"
    inbox.mkdir()
    site = Site.objects.create(field=Field.objects.create(code="BKF", name="Backfill field"), code="BKF-PAD",
                               name="Backfill pad")
    device = Device(site=site, name="CSV-BACKFILL", protocol="csv", poll_interval_ms=50, stale_after_intervals=1000,
                    connection={"directory": str(inbox), "settle_s": 0})
    device.full_clean()
    device.save()
    tag = Tag(device=device, name="W07.THP", data_type="float32", unit="bar", eng_low=0, eng_high=350,
              address={"column": "THP"})
    tag.full_clean()
    tag.save()
    definition = AlarmDefinition(tag=tag, kind="HH", setpoint=100.0, priority="high", message="HH tubing head pressure")
    definition.full_clean()
    definition.save()
    services.ensure_alarm(definition)
    yield inbox, definition
    _wipe_historian()


def test_old_csv_rows_neither_raise_nor_clear_alarms_recent_rows_do(thp):
    inbox, definition = thp
    now = time.time()

    def drop(name, *rows):
        text = "timestamp,THP\n" + "".join(f"{datetime.fromtimestamp(now - age, UTC).isoformat()},{value}\n"
                                           for age, value in rows)
        (inbox / name).write_text(text, encoding="utf-8")

    def state():
        return Alarm.objects.get(definition=definition).state

    async def scenario():
        gw = Gateway(flush_ms=20, reload_s=0.2, hooks=[AlarmHook()])
        stop = asyncio.Event()
        with acting(channel=Channel.GATEWAY):
            task = asyncio.create_task(gw.run(stop))
        try:
            await until(lambda: gw.runners and all(r.connected for r in gw.runners.values()), what="connected")
            driver = next(iter(gw.runners.values())).driver
            states = []
            for n, (name, rows) in enumerate([
                ("1-yesterday.csv", [(86400, 150.0), (86000, 160.0)]),  # above HH a day ago: history
                ("2-now.csv", [(30, 150.0)]),  # above HH half a minute ago: raises
                ("3-this-morning.csv", [(7200, 50.0)]),  # normal two hours ago: does not clear
                ("4-now.csv", [(10, 50.0)]),  # normal now: returns to normal
            ], start=1):
                drop(name, *rows)
                await until(lambda n=n: driver.stats["imported"] == n, what=name)
                states.append(await gw.db_call(state))
            return states
        finally:
            stop.set()
            await task

    states = asyncio.run(scenario())
    assert states == [S.NORMAL, S.UNACKED, S.UNACKED, S.RTN_UNACKED]
    assert list(AlarmJournal.objects.filter(alarm__definition=definition).order_by("at")
                .values_list("event", "value")) == [("raise", 150.0), ("clear", 50.0)]
    with connection.cursor() as cursor:  # the historian has every row
        cursor.execute("SELECT value FROM scada_historian ORDER BY ts")
        assert [v for (v,) in cursor.fetchall()] == [150.0, 160.0, 50.0, 150.0, 50.0]
