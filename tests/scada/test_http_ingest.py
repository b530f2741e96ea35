"""The http_ingest driver against a real PostgreSQL and the real Gateway: points pushed to
``POST /api/v1/ingest/realtime`` reach the historian exactly once although the driver's database session is killed
and the database refuses connections for a while, without the device being restarted or its tags marked Bad."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.core.context import Channel, acting
from scada.runtime.gateway import Gateway
from tests.scada.helpers import until

pytestmark = pytest.mark.django_db(transaction=True)  # the gateway and the driver have their own database threads

URL = "/api/v1/ingest/realtime"


@pytest.fixture
def ingest_tag(world, clean_historian):
    from apps.wells.models import Well
    from scada.models import Device, Tag

    well = Well.objects.create(site=world.site_a, name="W07", uwi="42-501-00007")
    device = Device.objects.create(site=world.site_a, name="HTTP-1", protocol="http_ingest", connection={},
                                   poll_interval_ms=50, stale_after_intervals=10000)  # no Stale marks in the test
    return Tag.objects.create(device=device, name="W07.THP", address={"key": "tubing_pressure"}, well=well,
                              unit="bar", eng_low=0, eng_high=350)


def test_lost_database_session_and_outage_fail_polls_and_every_point_is_published_once(ingest_tag, api_for, caplog):
    if connection.vendor != "postgresql":
        pytest.skip("terminates PostgreSQL backends")
    from scada.ingest.models import IngestBuffer
    from tests.scada.mqtt_helpers import database_away

    caplog.set_level(logging.INFO)
    client = api_for("scada")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)

    # Every database call of the test runs in one thread of its own, whose session is the one left alive.
    side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-side")

    def push(*values):
        points = [{"well_id": "W07", "timestamp": (t0 + timedelta(seconds=v)).isoformat(),
                   "parameter_name": "tubing_pressure", "value": float(v), "unit": "bar"} for v in values]
        response = client.post(URL, {"tenant_id": "edge-01", "data_points": points}, format="json")
        assert response.status_code == 200 and response.json()["accepted_count"] == len(values), response.content

    def historian():
        with connection.cursor() as cursor:
            cursor.execute("SELECT value, quality FROM scada_historian WHERE tag_key = %s ORDER BY ts",
                           [ingest_tag.key])
            return cursor.fetchall()

    def kill_other_sessions():
        """PostgreSQL restarted, as the gateway sees it: every other session of the database is terminated."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")

    async def on_side(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(side, fn, *args)

    async def has(n, what):
        """Wait for the first n points in the historian, then check it holds exactly them (nothing twice, no mark)."""
        await until(lambda: on_side(lambda: sum(q == 0 for _, q in historian()) >= n), what=what)
        assert await on_side(historian) == [(float(v), 0) for v in range(1, n + 1)]

    def failed_polls(driver):
        return getattr(driver, "stats", {}).get("db_errors", 0)

    async def scenario():
        gw = Gateway(flush_ms=20, reload_s=0.2, hooks=[])
        stop = asyncio.Event()
        with acting(channel=Channel.GATEWAY):
            task = asyncio.create_task(gw.run(stop))
        try:
            await until(lambda: gw.ready.is_set() and gw.runners and all(r.connected for r in gw.runners.values()),
                        what="gateway and http_ingest device connected")
            runner = next(iter(gw.runners.values()))
            driver = runner.driver
            await on_side(push, 1, 2, 3)
            await has(3, "the first points")

            # 1. The driver's session (and the gateway's) killed: one poll fails, the next one takes the points.
            await on_side(kill_other_sessions)
            await on_side(push, 4, 5)
            await has(5, "the points pushed after the session was killed")
            assert runner.connects == 1, "the device was restarted (and its tags marked Bad)"

            # 2. The database refuses connections for several polls; points pushed meanwhile wait in the buffer.
            away = database_away()
            await on_side(away.__enter__)
            try:
                await on_side(push, 6, 7, 8)
                before = failed_polls(driver)
                await until(lambda: failed_polls(driver) >= before + 3, what="several polls failed while away")
            finally:
                await on_side(away.__exit__, None, None, None)
            await has(8, "the points pushed while the database was away")
            assert not await on_side(IngestBuffer.objects.exists)
            assert runner.connects == 1, "the device was restarted"
        finally:
            stop.set()
            await task

    connection.close()  # the main thread's session is reopened after the scenario, not killed in it
    try:
        asyncio.run(scenario())
        rows = side.submit(historian).result()
    finally:
        side.submit(lambda: connection.close()).result()  # the side thread's own connection
        side.shutdown()

    # every point exactly once, no Bad mark of a device failure in between
    assert rows == [(float(v), 0) for v in range(1, 9)]
    warnings = [r for r in caplog.records if r.name == "scada.ingest" and r.levelno == logging.WARNING]
    recovered = [r for r in caplog.records if r.name == "scada.ingest" and "database back" in r.getMessage()]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]  # once per outage, not once per failed poll
    assert len(recovered) == 2
    assert not [r for r in caplog.records if r.name == "scada.gateway" and "HTTP-1" in r.getMessage()
                and r.levelno >= logging.WARNING]
