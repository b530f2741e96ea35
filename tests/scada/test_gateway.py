"""The gateway end to end: a real pymodbus server, the real database, the historian writer, current values,
reconnection, setpoint writes, configuration reload, stale detection, and SIGTERM flush of run_scada."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from django.db import connection

from apps.core.context import Channel, acting
from scada.drivers.modbus import decode, encode
from scada.runtime.config import DeviceConfig, TagConfig
from scada.runtime.gateway import Gateway
from scada.runtime.recorder import Recorder
from scada.runtime.samples import BAD, GOOD, STALE, Sample
from tests.scada.helpers import until
from tests.scada.servers import ModbusServerThread


def _site():
    from apps.wells.models import Field, Site

    field = Field.objects.create(code="GWF", name="Gateway field")
    return Site.objects.create(field=field, code="GW-PAD", name="Gateway pad")


def _device(site, port, **extra):
    from scada.models import Device

    return Device.objects.create(site=site, name="RTU-GW", protocol="modbus_tcp", poll_interval_ms=100,
                                 connection={"host": "127.0.0.1", "port": port, "timeout_s": 0.3,
                                             "word_order": "CDAB", **extra})


@pytest.fixture
def server():
    s = ModbusServerThread().start()
    yield s
    s.close()


def test_gateway_polls_records_reconnects_writes_and_reloads(server, clean_historian):
    from apps.core.models import AuditEvent
    from scada import historian
    from scada.models import CurrentValue, Tag, WriteCommand

    site = _site()
    device = _device(site, server.port)
    thp = Tag.objects.create(device=device, name="W01.THP", data_type="float32", unit="bar",
                             address={"register_type": "holding", "address": 0})
    pt = Tag.objects.create(device=device, name="W01.PIP", data_type="uint16", scaling="ma_4_20", eng_low=0,
                            eng_high=200, address={"register_type": "input", "address": 0})
    sp = Tag.objects.create(device=device, name="W01.CHOKE_SP", data_type="float32", writable=True, eng_low=0,
                            eng_high=100, address={"register_type": "holding", "address": 10})
    server.set("holding", 0, encode(42.25, "float32", "CDAB"))
    server.set("input", 0, [3000])  # 3.0 mA: NE43 fault
    seen = []

    async def scenario():
        gw = Gateway(flush_ms=50, reload_s=0.2, reconnect_max=0.4, write_poll_s=0.05,
                     hooks=[lambda samples, gateway: seen.extend(samples)])
        stop = asyncio.Event()
        with acting(channel=Channel.GATEWAY):
            task = asyncio.create_task(gw.run(stop))
        cur = gw.store.get
        await until(lambda: cur(thp.key) and cur(thp.key)[:2] == (42.25, GOOD), what="first good value")
        assert cur(pt.key)[:2] == (None, BAD)
        server.set("input", 0, [12000])
        await until(lambda: cur(pt.key)[:2] == (100.0, GOOD), what="4-20 mA value")

        server.stop()  # the RTU stops answering: Bad, never the last good value
        await until(lambda: cur(thp.key)[1] == BAD, what="Bad after comm loss")
        assert cur(thp.key)[0] is None
        await asyncio.sleep(0.5)
        assert cur(thp.key)[:2] == (None, BAD)
        server.start()  # comes back on the same port: reconnect with backoff
        server.set("holding", 0, encode(43.5, "float32", "CDAB"))
        server.set("input", 0, [12000])
        await until(lambda: cur(thp.key)[:2] == (43.5, GOOD), what="good again after reconnect")

        command = await gw.db_call(lambda: WriteCommand.objects.create(tag=sp, value=55.5))
        await until(lambda: gw.db_call(lambda: WriteCommand.objects.get(pk=command.pk).status != "PENDING"),
                    what="write completed")

        added = await gw.db_call(lambda: Tag.objects.create(
            device=device, name="W01.NEW", data_type="float32", address={"register_type": "holding", "address": 2}))
        server.set("holding", 2, encode(7.0, "float32", "CDAB"))
        await until(lambda: cur(added.key) and cur(added.key)[:2] == (7.0, GOOD), what="reloaded tag polled")

        stop.set()
        await task
        return gw, command

    gw, command = asyncio.run(scenario())
    command.refresh_from_db()
    assert command.status == "DONE", command.reason
    assert decode(server.get("holding", 10, 2), "float32", "CDAB") == 55.5
    transition = AuditEvent.objects.get(object_id=str(command.pk), action="transition")
    assert transition.channel == "gateway" and transition.changes["status"] == ["PENDING", "DONE"]

    assert any(s.key == thp.key and s.quality == BAD for s in seen)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, quality FROM scada_historian WHERE tag_key = %s ORDER BY ts", [thp.key])
        rows = cursor.fetchall()
    assert (42.25, GOOD) in rows and (None, BAD) in rows and (43.5, GOOD) in rows
    assert rows.index((42.25, GOOD)) < rows.index((None, BAD)) < rows.index((43.5, GOOD))
    # deadband 0 and a value that did not move: recorded once per change, not once per poll
    assert len(rows) < gw.stats.published / 4
    assert gw.stats.recorded == historian.rows_after(None, 10**6).__len__()
    current = CurrentValue.objects.get(tag=thp)
    assert (current.value, current.quality) == (43.5, GOOD)
    assert CurrentValue.objects.get(tag=pt).value == 100.0


def test_write_fails_with_reason_when_device_is_down(server, clean_historian):
    from scada.models import Tag, WriteCommand

    device = _device(_site(), server.port)
    sp = Tag.objects.create(device=device, name="SP", data_type="int16", writable=True, eng_low=0, eng_high=10,
                            address={"register_type": "holding", "address": 1})
    server.stop()

    async def scenario():
        gw = Gateway(flush_ms=50, reload_s=0.2, reconnect_max=0.4, write_poll_s=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        command = await gw.db_call(lambda: WriteCommand.objects.create(tag=sp, value=3))
        await until(lambda: gw.db_call(lambda: WriteCommand.objects.get(pk=command.pk).status != "PENDING"))
        stop.set()
        await task
        return command

    command = asyncio.run(scenario())
    command.refresh_from_db()
    assert (command.status, command.reason) == ("FAILED", "device not connected")


def test_stale_detection_flags_tags_not_updated_for_n_intervals():
    tag = TagConfig(key=1, id="1", name="A", data_type="float32", address={})
    fresh = TagConfig(key=2, id="2", name="B", data_type="float32", address={})
    config = DeviceConfig(id="d", name="D", protocol="mqtt", settings={}, poll_interval_s=1.0,
                          stale_after_intervals=3, tags=(tag, fresh))
    seen = []
    gw = Gateway(hooks=[lambda samples, g: seen.extend(samples)])
    gw.runners = {"d": SimpleNamespace(config=config)}
    gw.store.update([Sample(1, time.time() - 4, 5.0, GOOD)], time.time() - 4)
    gw.store.update([Sample(2, time.time() - 1, 6.0, GOOD)], time.time() - 1)
    asyncio.run(gw.check_stale())
    assert [(s.key, s.value, s.quality) for s in seen] == [(1, 5.0, STALE)]
    asyncio.run(gw.check_stale())  # already stale: not repeated
    assert len(seen) == 1


def test_recorder_applies_deadband_quality_changes_and_max_interval():
    tag = TagConfig(key=9, id="9", name="X", data_type="float32", address={}, deadband=1.0, max_interval_s=10)
    recorder = Recorder()
    recorder.configure([tag])
    feed = [(0, 10.0, GOOD), (1, 10.5, GOOD), (2, 11.2, GOOD), (3, 11.0, GOOD), (4, None, BAD), (5, None, BAD),
            (6, 11.0, GOOD), (16.5, 11.1, GOOD), (17, 11.2, GOOD)]
    rows = recorder.filter([Sample(9, ts, v, q) for ts, v, q in feed])
    assert [(ts, v, q) for ts, _k, v, q in rows] == [(0, 10.0, GOOD), (2, 11.2, GOOD), (4, None, BAD),
                                                    (6, 11.0, GOOD), (16.5, 11.1, GOOD)]


def test_run_scada_flushes_everything_on_sigterm(server, clean_historian):
    from scada.models import Tag

    device = _device(_site(), server.port)
    for i in range(20):
        Tag.objects.create(device=device, name=f"S{i}", data_type="uint16",
                           address={"register_type": "holding", "address": i})
    db = connection.settings_dict
    env = {**os.environ, "DEBUG": "1", "SCADA_FLUSH_MS": "250", "SCADA_FLUSH_SAMPLES": "100000",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    if connection.vendor != "postgresql":
        pytest.skip("the subprocess needs a server database")
    proc = subprocess.Popen([sys.executable, "manage.py", "run_scada"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    counter = 0
    try:
        deadline = time.monotonic() + 60
        while True:  # change values so every poll is recorded
            assert time.monotonic() < deadline and proc.poll() is None, "run_scada recorded nothing"
            counter += 1
            server.set("holding", 0, list(range(counter, counter + 20)))
            time.sleep(0.05)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM scada_historian")
                if cursor.fetchone()[0] > 0:
                    break
        server.set("holding", 0, [9999] * 20)
        # The next read returns the new values and the one after it is only sent once they are published: at
        # least one poll of them is queued (flushed or not: every 250 ms) when SIGTERM arrives. A fixed pause
        # was not enough when run_scada's poll came late on a loaded machine.
        server.wait_for_reads(2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    recorded = int(out.strip().rsplit(" ", 2)[-2])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(value) FROM scada_historian")
        count, top = cursor.fetchone()
    assert count == recorded > 0
    assert top == 9999.0  # the last values, queued when SIGTERM arrived, were written


def test_database_outage_applies_back_pressure_and_loses_nothing():
    """While the historian write fails the batch is retried, the bounded queue fills and publish() blocks the
    producer; when the database is back every sample is written exactly once."""
    written, failures = [], {"left": 3}

    def flaky_writer(rows):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database is down")
        written.extend(rows)

    async def scenario():
        gw = Gateway(flush_samples=100, flush_ms=20, queue_max=1000, hooks=[], historian_writer=flaky_writer)
        writer = asyncio.create_task(gw._writer())
        blocked_at = None
        for i in range(30):  # 30 x 100 samples, with distinct values so the recorder keeps them all
            put = asyncio.create_task(gw.publish([Sample(k, i, float(i), GOOD) for k in range(100)]))
            await asyncio.sleep(0)
            if not put.done() and blocked_at is None:
                blocked_at = len(gw.queue)
            await put
        await until(lambda: len(written) == 3000, what="all rows written")
        gw._stopping = True
        await writer
        gw.db.shutdown()
        return blocked_at, gw.stats

    blocked_at, stats = asyncio.run(scenario())
    assert blocked_at is not None and blocked_at >= 1000  # the producer waited on a full queue
    assert stats.write_errors == 3
    assert sorted((r[1], r[0]) for r in written) == sorted((k, i) for i in range(30) for k in range(100))


def test_commit_callbacks_fire_only_after_the_rows_before_them_are_written():
    """publish(on_commit=...) is how a push source acknowledges its input: the callback runs after every sample
    published before it is written (retries included), in order, and also for a publish whose samples were all
    filtered out; a batch given up at shutdown never acknowledges."""
    written, failures, events = [], {"left": 2}, []

    def flaky_writer(rows):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database is down")
        written.extend(rows)
        events.append(("write", len(rows)))

    async def scenario():
        gw = Gateway(flush_samples=50, flush_ms=20, queue_max=10_000, hooks=[], historian_writer=flaky_writer)
        writer = asyncio.create_task(gw._writer())
        for i in range(5):
            await gw.publish([Sample(k, i, float(i), GOOD) for k in range(40)],
                             on_commit=lambda i=i: events.append(("ack", i, len(written))))
        await gw.publish([], on_commit=lambda: events.append(("ack-empty", len(written))))
        await until(lambda: any(e[0] == "ack-empty" for e in events), what="all acknowledgements")
        gw._stopping = True
        await writer
        gw.db.shutdown()

    asyncio.run(scenario())
    acks = [e for e in events if e[0] == "ack"]
    assert [a[1] for a in acks] == [0, 1, 2, 3, 4]
    for _, i, written_then in acks:
        assert written_then >= 40 * (i + 1)  # every sample of message i (and before) was in the historian
    assert events[-1] == ("ack-empty", 200)

    lost = []

    async def shutdown_with_database_away():
        def down(rows):
            raise ConnectionError("database is down")

        gw = Gateway(flush_samples=50, flush_ms=20, queue_max=10_000, hooks=[], historian_writer=down)
        gw._stopping = True
        await gw.publish([Sample(1, 1.0, 1.0, GOOD)], on_commit=lambda: lost.append("acked"))
        await gw._writer()
        gw.db.shutdown()

    asyncio.run(shutdown_with_database_away())
    assert lost == []  # rows given up at shutdown: the source is not told they are safe


class QuietPushDriver:
    """A push source that sends one value and then nothing (a report-by-exception device with a steady value)."""

    polled = False
    report_by_exception = True

    def __init__(self, device, publish):
        self.device, self.publish = device, publish

    async def connect(self):
        return None

    async def run(self):
        await self.publish([Sample(t.key, time.time(), 40.0, GOOD) for t in self.device.tags])
        await asyncio.Event().wait()  # connected, quiet

    async def close(self):
        return None


class ChattyThenSilentDriver(QuietPushDriver):
    report_by_exception = False  # periodic source: silence means the values are old


def test_quiet_report_by_exception_tags_stay_good_while_periodic_ones_go_stale():
    """An OPC-UA subscription or a Sparkplug node sends changes only: a steady value is current while the link
    lives. A periodic source (Modbus poll, JSON batches) that falls silent turns Stale after its intervals."""
    from scada.drivers import register_driver

    register_driver("test_quiet", "tests.scada.test_gateway.QuietPushDriver")
    register_driver("test_silent", "tests.scada.test_gateway.ChattyThenSilentDriver")
    configs = {
        name: DeviceConfig(id=name, name=name, protocol=name, settings={}, poll_interval_s=0.05,
                           stale_after_intervals=2, tags=(TagConfig(key=key, id=str(key), name=f"T{key}",
                                                                    data_type="float32", address={}),))
        for name, key in (("test_quiet", 9101), ("test_silent", 9102))
    }

    async def scenario():
        gw = Gateway(flush_ms=20, stale_check_s=0.02, hooks=[], historian_writer=lambda rows: None)
        await gw.apply_config(configs)
        await until(lambda: gw.store.get(9101) and gw.store.get(9102), what="first values")
        for _ in range(20):  # 20 stale checks, well past 2 intervals of 50 ms
            await gw.check_stale()
            await asyncio.sleep(0.02)
        result = gw.store.get(9101)[1], gw.store.get(9102)[1]
        for runner in list(gw.runners.values()):
            await runner.stop()
        gw.db.shutdown()
        return result

    assert asyncio.run(scenario()) == (GOOD, STALE)


def test_a_batch_cancelled_in_a_sample_hook_is_still_written_at_shutdown():
    """SIGTERM cancels a push driver while its batch waits in a (slow) sample hook: the batch is already in the
    current values, so it must reach the historian with the shutdown flush, not vanish."""
    written = []

    async def slow_hook(samples, gateway):
        await asyncio.sleep(30)

    async def scenario():
        gw = Gateway(flush_samples=100, flush_ms=20, queue_max=1000, hooks=[slow_hook],
                     historian_writer=written.extend)
        writer = asyncio.create_task(gw._writer())
        acked = []
        push = asyncio.create_task(gw.publish([Sample(7, 1.0, 42.0, GOOD)], on_commit=lambda: acked.append(1)))
        await asyncio.sleep(0.05)
        push.cancel()
        with pytest.raises(asyncio.CancelledError):
            await push
        gw._stopping = True
        await writer
        gw.db.shutdown()
        return acked

    acked = asyncio.run(scenario())
    assert [(r[1], r[2]) for r in written] == [(7, 42.0)]
    assert acked == []  # never acknowledged: a source that acks (MQTT) redelivers, and its dedupe drops the copy


def test_gateway_database_thread_reconnects_after_the_database_drops_its_session(clean_historian):
    """PostgreSQL restarted (here: the gateway's session terminated): the historian write that meets the dead
    connection fails and is retried; the retry connects again instead of failing forever."""
    from django.db import DatabaseError

    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")

    def backend_pid():
        from django.db import connection as thread_connection

        with thread_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    def close_thread_connection():
        from django.db import connection as thread_connection

        thread_connection.close()

    def terminate(pid):
        from django.db import connection as other

        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()

    async def scenario():
        gw = Gateway(flush_samples=10, flush_ms=20, hooks=[])
        pid = await gw.db_call(backend_pid)
        await asyncio.to_thread(terminate, pid)
        with pytest.raises(DatabaseError):
            await gw.db_call(backend_pid)  # the first query meets the dead session
        assert await gw.db_call(backend_pid) != pid  # the next one has a new session
        await asyncio.to_thread(terminate, await gw.db_call(backend_pid))
        writer = asyncio.create_task(gw._writer())
        await gw.publish([Sample(4242, 1_700_000_000.0, 1.5, GOOD)])
        await until(lambda: gw.stats.recorded == 1, what="the row written after a retry")
        gw._stopping = True
        await writer
        await gw.db_call(close_thread_connection)
        gw.db.shutdown()
        return gw.stats

    stats = asyncio.run(scenario())
    assert stats.write_errors >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM scada_historian WHERE tag_key = 4242")
        assert cursor.fetchall() == [(1.5,)]


def test_quality_marks_never_wait_on_a_full_queue_and_only_repeated_marks_are_left_out():
    """publish_marks (a device's tags Bad after a failure, silent tags Stale) returns at once on a full queue. The
    current values and the hooks get every mark; the historian queue gets a tag's mark once, not its repeats, until a
    newer sample of the tag (which waits like any source) follows; the repeats are counted."""
    from prometheus_client import REGISTRY

    metric = ("wellsite_gateway_samples_dropped_total", {"reason": "repeated_mark"})
    before = REGISTRY.get_sample_value(*metric) or 0.0
    seen = []

    async def scenario():
        gw = Gateway(flush_samples=10, flush_ms=20, queue_max=4, hooks=[lambda samples, g: seen.extend(samples)],
                     historian_writer=lambda rows: None)
        await gw.publish([Sample(k, 1.0, 1.0, GOOD) for k in (1, 2, 3, 4)])  # full
        for ts in (2.0, 3.0, 4.0):  # three failed reconnects of the device of tags 7 and 8
            await asyncio.wait_for(gw.publish_marks([Sample(7, ts, None, BAD), Sample(8, ts, None, BAD)]), 5)
        await asyncio.wait_for(gw.publish_marks([Sample(9, 4.0, 5.0, STALE)]), 5)
        queued = [(s.key, s.ts) for s in gw.queue._items]
        blocked = asyncio.create_task(gw.publish([Sample(7, 5.0, 6.0, GOOD)]))  # a source's value: waits
        await asyncio.sleep(0.05)
        assert not blocked.done()
        gw.queue.take(4)
        await asyncio.wait_for(blocked, 5)
        gw.queue.take(100)
        await gw.publish([Sample(k, 6.0, 1.0, GOOD) for k in (1, 2, 3, 4)])  # full again
        await gw.publish_marks([Sample(7, 7.0, None, BAD)])  # after a good value: a change, queued again
        await gw.publish_marks([Sample(7, 8.0, None, BAD)])
        gw.db.shutdown()
        return gw, queued, [(s.key, s.ts) for s in gw.queue._items]

    gw, queued, queued_again = asyncio.run(scenario())
    assert queued == [(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (7, 2.0), (8, 2.0), (9, 4.0)]
    assert queued_again == [(1, 6.0), (2, 6.0), (3, 6.0), (4, 6.0), (7, 7.0)]
    assert [(s.key, s.ts) for s in seen if s.quality == BAD] == [(7, 2.0), (8, 2.0), (7, 3.0), (8, 3.0), (7, 4.0),
                                                                  (8, 4.0), (7, 7.0), (7, 8.0)]
    assert gw.store.get(7)[:2] == (None, BAD)
    assert gw.stats.marks_dropped == 5
    assert REGISTRY.get_sample_value(*metric) - before == 5


@pytest.mark.usefixtures("clean_historian")
def test_a_device_failing_while_the_database_is_down_goes_on_retrying_on_a_full_queue(mqtt_url, settings):
    """The database is down and the gateway's (small) queue is full: an RTU keeps polling, the historian cannot
    commit. An MQTT device loses its broker: its runner marks the tags Bad and reconnects; the reconnect waits for
    the historian commit (MQTT_COMMIT_WAIT_S), gives up, marks Bad again, and so on. Marking Bad used to wait on the
    full queue, so the runner hung there after the first failure, without retrying, until the database came back.
    Now every attempt is made and every Bad mark reaches the live path (current value, hooks); the historian gets the
    tag's Bad row once, not every repeat (counted); once the database is back every value is written."""
    from tests.scada.mqtt_helpers import GatewayThread, Publisher, database_away, mqtt_device, rows, wait_for

    settings.MQTT_COMMIT_WAIT_S = 0.3
    server = ModbusServerThread().start()
    rtu = _device(_site(), server.port)
    from scada.models import Tag

    for i in range(5):  # a row every second even without change: the historian writer has to commit
        Tag.objects.create(device=rtu, name=f"FULL.R{i}", data_type="uint16", max_interval_s=1,
                           address={"register_type": "holding", "address": i})
    device, tags = mqtt_device(mqtt_url, {"FULL.PV": "FULL.PV"}, topic_prefix="full/test")
    key = tags["FULL.PV"].key
    seen = []
    gw = GatewayThread(queue_max=40, flush_samples=10, reconnect_max=0.3,
                       hooks=[lambda samples, g: seen.extend(samples)]).start()
    gateway = gw.gateway
    pub = Publisher(mqtt_url)
    try:
        wait_for(lambda: gw.connected(device), what="MQTT device connected")
        pub.sync([pub.send("full/test/x", b'{"tag": "FULL.PV", "value": 1.0}')])
        wait_for(lambda: [r[2] for r in rows(key)] == [1.0], what="the first value stored")
        driver = gw.driver(device)
        with database_away():
            wait_for(lambda: len(gateway.queue) >= 40, what="the queue full")
            gw.cut_broker_link(device)
            wait_for(lambda: driver.commit_wait_timeouts >= 3, what="reconnect attempts while the queue is full")
            assert gw.current(tags["FULL.PV"])[:2] == (None, BAD) and not gw.connected(device)
            assert sum(1 for s in list(seen) if s.key == key and s.quality == BAD) >= 3  # the live path: each one
            assert gateway.stats.marks_dropped >= 2  # the historian: the first one only
            assert gateway.stats.write_errors >= 1
        wait_for(lambda: gw.connected(device), timeout=60, what="reconnected once the database is back")
        pub.sync([pub.send("full/test/x", b'{"tag": "FULL.PV", "value": 2.0}')])
        wait_for(lambda: any(r[2] == 2.0 for r in rows(key)), timeout=60, what="the value after the outage stored")
    finally:
        pub.close()
        gw.stop()
        server.close()
    assert [(r[2], r[3]) for r in rows(key)] == [(1.0, GOOD), (None, BAD), (2.0, GOOD)]


@pytest.mark.usefixtures("clean_historian")
def test_sparkplug_historical_metrics_reach_the_historian_only(mqtt_url):
    """Sparkplug B metrics flagged is_historical (stored by the edge node while it could not publish, forwarded
    later) are history: they are written to the historian, but they are not the tag's current value, the sample
    hooks (alarms, live HMI) do not see them, and a death marks Stale the last live value, not an old one."""
    from scada.drivers import sparkplug_b_pb2 as pb
    from tests.scada.mqtt_helpers import GatewayThread, Publisher, mqtt_device, rows, wait_for

    device, tags = mqtt_device(mqtt_url, {"SPH.W01.DH_P": "W01/DH_P"}, sparkplug=True, group_id="hist-test",
                               edge_node_id="node-h")
    tag = tags["SPH.W01.DH_P"]
    now_ms = int(time.time() * 1000)
    day_ms = 86_400_000
    seen = []
    gw = GatewayThread(hooks=[lambda samples, g: seen.extend(samples)]).start()
    pub = Publisher(mqtt_url)

    def payload(seq, *metrics, ts=now_ms):
        message = pb.Payload(timestamp=ts, seq=seq)
        for metric in metrics:
            message.metrics.add(**metric)
        return message.SerializeToString()

    base = "spBv1.0/hist-test/{}/node-h"
    try:
        wait_for(lambda: gw.connected(device), what="connected")
        pub.sync([pub.send(base.format("NBIRTH"), payload(0, {"name": "bdSeq", "datatype": pb.DataType.Int64,
                                                                "long_value": 1})),
                  pub.send(base.format("DBIRTH") + "/W01", payload(
                      1, {"name": "DH_P", "alias": 1, "datatype": pb.DataType.Double, "double_value": 180.0,
                          "timestamp": now_ms}))])
        wait_for(lambda: gw.current(tag) and gw.current(tag)[:2] == (180.0, GOOD), what="the birth value")
        pub.sync([pub.send(base.format("DDATA") + "/W01", payload(
            2, {"alias": 1, "double_value": 150.0, "timestamp": now_ms - 3 * day_ms, "is_historical": True},
            {"alias": 1, "double_value": 151.0, "timestamp": now_ms - 2 * day_ms, "is_historical": True},
            {"alias": 1, "double_value": 181.0, "timestamp": now_ms + 1})),
                  pub.send(base.format("DDATA") + "/W01", payload(
                      3, {"alias": 1, "double_value": 100.0, "timestamp": now_ms - day_ms, "is_historical": True}))])
        wait_for(lambda: len(rows(tag.key)) == 5, what="every value in the historian")
        assert gw.current(tag)[:2] == (181.0, GOOD)
        assert sorted(s.value for s in seen if s.key == tag.key) == [180.0, 181.0]
        assert gw.gateway.stats.historical == 3
        will = payload(4, {"name": "bdSeq", "datatype": pb.DataType.Int64, "long_value": 1}, ts=now_ms + 1000)
        pub.sync([pub.send(base.format("NDEATH"), will)])
        wait_for(lambda: gw.current(tag)[1] == STALE, what="Stale after NDEATH")
        assert gw.current(tag)[0] == 181.0  # the last live value, not the historical one published after it
    finally:
        pub.close()
        gw.stop()
    assert [(r[2], r[3]) for r in rows(tag.key)] == [(150.0, GOOD), (151.0, GOOD), (100.0, GOOD), (180.0, GOOD),
                                                     (181.0, GOOD), (181.0, STALE)]
