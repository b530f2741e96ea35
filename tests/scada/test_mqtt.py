"""The MQTT driver against a real Mosquitto and the real gateway/historian: JSON payload forms, timestamps and
quality, dead letters next to valid values, acknowledgement after commit (SIGKILL of run_scada with no loss and no
duplicate), and a broker restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest
from django.db import connection
from rest_framework.exceptions import ValidationError

from scada.drivers.mqtt import decode_json
from scada.protocols import validate_connection
from scada.runtime.samples import BAD, GOOD, STALE, UNCERTAIN
from tests.scada.mqtt_helpers import (
    GatewayThread,
    Publisher,
    count_rows,
    database_away,
    mqtt_device,
    rows,
    wait_for,
)
from tests.servers import MosquittoServer, free_port

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def test_settings_validation():
    ok = validate_connection("mqtt", {"topic_prefix": "site/a/"})
    assert ok["topic_prefix"] == "site/a" and ok["qos"] == 1 and ok["receive_maximum"] == 20000
    assert ok["client_id"] == "" and ok["session_expiry_s"] == 7 * 86400
    spb = validate_connection("mqtt", {"sparkplug": True, "group_id": "wellsite", "edge_node_id": "gauges-01"})
    assert spb["sparkplug"] is True
    for bad, field in (({}, "topic_prefix"), ({"topic_prefix": "a/#"}, "topic_prefix"),
                       ({"sparkplug": True, "group_id": "g"}, "edge_node_id"),
                       ({"topic_prefix": "a", "password_env": "lower"}, "password_env"),
                       ({"topic_prefix": "a", "broker_url": "http://x"}, "broker_url")):
        with pytest.raises(ValidationError) as exc:
            validate_connection("mqtt", bad)
        assert field in exc.value.detail, (bad, exc.value.detail)


def test_decode_json_forms_timestamps_quality_and_errors():
    keys = {"W01.THP": 1, "W01.CHP": 2, "W01.RUN": 3}
    samples, errors = decode_json(b'{"tag": "W01.THP", "value": 1234.5, "ts": "2026-01-01T00:00:00Z"}', keys, 5.0)
    assert [(s.key, s.ts, s.value, s.quality) for s in samples] == [(1, T0, 1234.5, GOOD)] and errors == []
    samples, _ = decode_json(b'{"ts": 1767225600500, "quality": "uncertain", "values": {"W01.THP": 1, '
                             b'"W01.RUN": true}}', keys, 5.0)
    assert [(s.key, s.ts, s.value, s.quality) for s in samples] == [(1, T0 + 0.5, 1.0, UNCERTAIN),
                                                                    (3, T0 + 0.5, 1.0, UNCERTAIN)]
    samples, _ = decode_json(b'{"tag": "W01.CHP", "value": 7, "ts": "2026-01-01T01:00:00+01:00"}', keys, 5.0)
    assert samples[0].ts == T0  # offsets honoured
    samples, _ = decode_json(b'{"tag": "W01.CHP", "value": 7, "ts": "2026-01-01T00:00:00"}', keys, 5.0)
    assert samples[0].ts == T0  # no offset: UTC
    samples, _ = decode_json(b'{"tag": "W01.CHP", "value": null, "quality": "BAD"}', keys, 5.0)
    assert (samples[0].ts, samples[0].value, samples[0].quality) == (5.0, None, BAD)  # no ts: time received
    samples, _ = decode_json(b'{"tag": "W01.CHP", "value": 3, "quality": 3}', keys, 5.0)
    assert samples[0].quality == STALE

    doc = [{"tag": "W01.THP", "value": 1, "ts": 1767225600000},
           {"tag": "W09.XXX", "value": 2},
           {"tag": "W01.CHP", "value": "high"},
           {"tag": "W01.CHP", "value": 3, "ts": "yesterday"},
           {"tag": "W01.CHP", "value": 4, "quality": "SO-SO"},
           {"tag": "W01.CHP", "value": None},
           42,
           {"ts": 1767225600000, "values": {"W01.CHP": 5, "NOPE": 6, "W01.RUN": [1]}}]
    samples, errors = decode_json(orjson.dumps(doc), keys, 5.0)
    assert [(s.key, s.value) for s in samples] == [(1, 1.0), (2, 5.0)]
    reasons = [r for _item, r in errors]
    assert reasons[0] == "[1] unknown tag 'W09.XXX'"
    assert reasons[1].startswith("[2] wrong type for 'W01.CHP'")
    assert reasons[2].startswith("[3] bad timestamp 'yesterday'")
    assert reasons[3].startswith("[4] bad quality 'SO-SO'")
    assert reasons[4].startswith("[5] null value")
    assert reasons[5].startswith("[6] expected an object")
    assert reasons[6] == "[7] unknown tag 'NOPE'" and reasons[7].startswith("[7] wrong type for 'W01.RUN'")
    assert errors[6][0] == {"tag": "NOPE", "value": 6}  # the dead letter holds the offending item
    samples, errors = decode_json(b'{"values": {"W01.THP": 1', keys, 5.0)
    assert samples == [] and errors[0][0] is None and errors[0][1].startswith("malformed JSON")


@pytest.mark.usefixtures("clean_historian")
def test_json_messages_reach_the_historian_and_bad_input_the_dead_letters(mqtt_url):
    from scada.ingest.models import DeadLetter

    device, tags = mqtt_device(mqtt_url, {"W01.THP": "W01.THP", "W01.CHP": "W01.CHP", "W01.FLT": "W01.FLT"},
                               topic_prefix="test/json")
    thp, chp, flt = tags["W01.THP"].key, tags["W01.CHP"].key, tags["W01.FLT"].key
    gw = GatewayThread().start()
    pub = Publisher(mqtt_url)
    try:
        wait_for(lambda: gw.connected(device), what="MQTT device connected")
        infos = [
            pub.send("test/json/a", '{"tag": "W01.THP", "value": 101.5, "ts": "2026-01-01T00:00:01Z"}'),
            pub.send("test/json/b", orjson.dumps({"ts": 1767225602000, "values": {"W01.THP": 102, "W01.CHP": 52}})),
            pub.send("test/json/c", orjson.dumps([
                {"tag": "W01.THP", "value": 103, "ts": 1767225603000},
                {"tag": "W01.UNKNOWN", "value": 1, "ts": 1767225603000},
                {"tag": "W01.CHP", "value": "n/a", "ts": 1767225603000},
                {"tag": "W01.FLT", "value": None, "quality": "BAD", "ts": 1767225603000},
                {"ts": "2026-01-01T00:00:04Z", "quality": "UNCERTAIN", "values": {"W01.CHP": 54}},
            ])),
            pub.send("test/json/d", b"not json at all"),
            pub.send("test/json/e", orjson.dumps({"tag": "W01.THP", "value": 105, "ts": 1767225605000})),
        ]
        pub.sync(infos)
        wait_for(lambda: len(rows(thp)) == 4 and DeadLetter.objects.filter(source="mqtt").count() == 3,
                 what="rows and dead letters")
        assert [(ts, v, q) for _k, ts, v, q in rows(thp)] == [
            (T0 + 1, 101.5, GOOD), (T0 + 2, 102.0, GOOD), (T0 + 3, 103.0, GOOD), (T0 + 5, 105.0, GOOD)]
        assert [(ts, v, q) for _k, ts, v, q in rows(chp)] == [(T0 + 2, 52.0, GOOD), (T0 + 4, 54.0, UNCERTAIN)]
        assert [(ts, v, q) for _k, ts, v, q in rows(flt)] == [(T0 + 3, None, BAD)]
        letters = {d.reason: d for d in DeadLetter.objects.filter(source="mqtt")}
        assert set(letters) == {"[1] unknown tag 'W01.UNKNOWN'",
                                "[2] wrong type for 'W01.CHP': expected a number or a boolean, got str",
                                next(r for r in letters if r.startswith("malformed JSON"))}
        assert letters["[1] unknown tag 'W01.UNKNOWN'"].topic == "test/json/c"
        assert orjson.loads(letters["[1] unknown tag 'W01.UNKNOWN'"].payload)["tag"] == "W01.UNKNOWN"
        assert next(d for r, d in letters.items() if r.startswith("malformed")).payload == "not json at all"
        driver = gw.driver(device)
        wait_for(lambda: gw.connected(device))
        assert driver.dead_letters == 3
    finally:
        pub.close()
        gw.stop()
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("wellsite_dead_letters_total", {"source": "mqtt"}) >= 3


def _gateway_env(extra=None):
    db = connection.settings_dict
    return {**os.environ, "DEBUG": "1", "SCADA_FLUSH_MS": "100", "SCADA_FLUSH_SAMPLES": "2000",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}", **(extra or {})}


def _run_scada(env, log):
    """run_scada with its log (stdout, JSON lines) appended to ``log`` (a file: a pipe could fill and block it)."""
    return subprocess.Popen([sys.executable, "manage.py", "run_scada"], env=env, stdout=log, stderr=log)


@pytest.mark.usefixtures("clean_historian")
def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(tmp_path):
    """run_scada is killed with SIGKILL twice while messages stream in (QoS 1, acknowledged only after commit);
    after the restarts every published value is in the historian exactly once."""
    if connection.vendor != "postgresql":
        pytest.skip("the subprocess needs a server database")
    n_tags, n_messages = 20, 3000
    with MosquittoServer() as broker:
        device, tags = mqtt_device(broker.url, {f"K{i:02d}.PV": f"K{i:02d}.PV" for i in range(n_tags)},
                                   topic_prefix="kill/test")
        keys = sorted(t.key for t in tags.values())
        env = _gateway_env()
        pub = Publisher(broker.url, client_id="kill-test-publisher")
        log_path = tmp_path / "run_scada.log"
        log = log_path.open("a")
        procs = [_run_scada(env, log)]
        try:  # the first start creates the persistent session; from then on the broker queues for it
            wait_for(lambda: "subscribed to" in log_path.read_text(), timeout=60, what="first subscription")
            sent, infos, kills = 0, [], 0
            while sent < n_messages:
                for _ in range(50):  # 50 messages x 20 values, each value distinct (the recorder keeps them all)
                    ts = 1_767_225_600_000 + sent * 10
                    values = {f"K{i:02d}.PV": float(sent * 100 + i) for i in range(n_tags)}
                    infos.append(pub.send("kill/test/batch", orjson.dumps({"ts": ts, "values": values})))
                    sent += 1
                time.sleep(0.02)
                if kills < 2 and sent in (900, 2000):
                    try:
                        wait_for(lambda: count_rows() > 0, what="the gateway writing", timeout=60)
                    except AssertionError:
                        raise AssertionError(log_path.read_text()[-3000:]) from None
                    procs[-1].send_signal(signal.SIGKILL)
                    procs[-1].wait(10)
                    kills += 1
                    procs.append(_run_scada(env, log))
            pub.sync(infos)
            expected = n_messages * n_tags
            wait_for(lambda: count_rows() >= expected, timeout=90, what=f"{expected} rows", interval=0.25)
            time.sleep(1.0)  # anything late (a duplicate) would arrive now
            procs[-1].send_signal(signal.SIGTERM)
            procs[-1].wait(30)
        finally:
            pub.close()
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(5)
    assert kills == 2
    assert procs[-1].returncode == 0, log_path.read_text()[-3000:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT (tag_key, ts)) FROM scada_historian WHERE quality = 0")
        total, distinct = cursor.fetchone()
        cursor.execute("SELECT tag_key, (extract(epoch from ts) * 1000)::bigint, value FROM scada_historian "
                       "WHERE quality = 0")
        good = cursor.fetchall()
    assert total == distinct == n_messages * n_tags, (total, distinct)  # no loss, no duplicate
    want = {(keys[i], 1_767_225_600_000 + m * 10, float(m * 100 + i)) for m in range(n_messages)
            for i in range(n_tags)}
    assert set(good) == want


@pytest.mark.usefixtures("clean_historian")
def test_broker_restart_marks_tags_bad_and_loses_no_message_published_after_it():
    port = free_port()

    class FixedPortBroker(MosquittoServer):
        def __init__(self):
            super().__init__()
            self.port = port

    broker = FixedPortBroker().start()
    device, tags = mqtt_device(broker.url, {"R.PV": "R.PV"}, topic_prefix="restart/test")
    key = tags["R.PV"].key
    base = int(time.time() * 1000)  # recent: values stamped longer ago than SCADA_LIVE_MAX_AGE_S are not current
    gw = GatewayThread(reconnect_max=0.3).start()
    try:
        wait_for(lambda: gw.connected(device), what="connected")
        pub = Publisher(broker.url)
        pub.sync([pub.send("restart/test/x", orjson.dumps({"tag": "R.PV", "value": 1.0, "ts": base}))])
        pub.close()
        wait_for(lambda: gw.current(tags["R.PV"]) and gw.current(tags["R.PV"])[:2] == (1.0, GOOD))
        broker.stop()
        wait_for(lambda: gw.current(tags["R.PV"])[1] == BAD, what="Bad while the broker is away")
        assert gw.current(tags["R.PV"])[0] is None
        broker = FixedPortBroker().start()  # same port, empty (persistence off): the session is recreated
        wait_for(lambda: gw.connected(device), what="reconnected", timeout=30)
        pub = Publisher(broker.url)
        infos = [pub.send("restart/test/x", orjson.dumps({"tag": "R.PV", "value": float(i), "ts": base + 1000 + i}))
                 for i in range(2, 202)]
        pub.sync(infos)
        pub.close()
        wait_for(lambda: len([r for r in rows(key) if r[3] == GOOD]) == 201, what="every value after restart")
    finally:
        gw.stop()
        broker.stop()
    good = [(ts, v) for _k, ts, v, q in rows(key) if q == GOOD]
    assert [v for _ts, v in good] == [1.0] + [float(i) for i in range(2, 202)]
    assert any(q == BAD and v is None for _k, _ts, v, q in rows(key))


def test_seed_mqtt_demo_is_idempotent_and_valid(db):
    import io

    from scada.models import Device, Tag
    from scada.sim_mqtt import seed_mqtt_demo
    from tests.scada.mqtt_helpers import site

    site()
    out = io.StringIO()
    first = seed_mqtt_demo(out, broker_url="mqtt://127.0.0.1:1884")
    again = seed_mqtt_demo(out)
    assert [d.pk for d in first] == [d.pk for d in again] and len(first) == 2
    json_dev, spb_dev = Device.objects.get(name="MQTT-PAD-A-TB"), Device.objects.get(name="MQTT-SPB-GAUGES")
    assert json_dev.settings()["topic_prefix"] == "wellsite/pad-a/tb1"
    assert spb_dev.settings()["sparkplug"] is True
    assert Tag.objects.get(name="W03.DH_P").address == {"key": "W03/DH_P"}
    assert Tag.objects.filter(device=json_dev).count() == 7
    assert "MQTT demo device MQTT-SPB-GAUGES: 8 tags" in out.getvalue()


@pytest.mark.usefixtures("clean_historian")
def test_redelivered_messages_drop_only_the_samples_already_in_the_historian():
    """historian.existing finds stored (tag, ts) pairs to the microsecond; the driver checks only DUP messages
    against it, so a redelivered message adds its missing values and never a second row of a stored one."""
    import asyncio

    from scada import historian
    from scada.drivers.mqtt import MqttDriver, Received
    from scada.runtime.config import load_config

    device, tags = mqtt_device("mqtt://127.0.0.1:1", {"D.A": "D.A", "D.B": "D.B"}, topic_prefix="dup/test")
    a, b = tags["D.A"].key, tags["D.B"].key
    t1, t2 = T0 + 0.123456, T0 + 2.000001
    historian.write_rows([(t1, a, 1.0, GOOD), (t2, b, 2.0, GOOD)])
    assert historian.existing([(a, t1), (b, t2), (b, t1), (a, t1 + 0.001), (a + b, t2)]) == {
        (a, historian.micros(t1)), (b, historian.micros(t2))}
    assert historian.existing([]) == set()

    published = []

    async def publish(samples, on_commit=None):
        published.extend((s.key, s.ts, s.value) for s in samples)

    driver = MqttDriver(load_config()[str(device.pk)], publish)

    def message(mid, ts, dup):
        body = orjson.dumps({"ts": ts * 1000, "values": {"D.A": 1.0, "D.B": 2.0}})
        return Received(b"dup/test/batch", body, mid, 1, dup, False)

    # the redelivery of the stored message at t1 (A stored, B not) and a first delivery at t2 (B stored, not checked)
    asyncio.run(driver.handle([message(1, t1, True), message(2, t2, False)], driver._gen))
    assert sorted(published) == sorted([(b, t1, 2.0), (a, t2, 1.0), (b, t2, 2.0)])
    assert driver.duplicates_dropped == 1


def _good(key):
    return [(ts, v) for _k, ts, v, q in rows(key) if q == GOOD]


@pytest.mark.usefixtures("clean_historian")
def test_reconnect_with_the_database_down_gives_up_the_commit_wait_retries_and_recovers(mqtt_url, settings):
    """The broker link drops while the database is down: the reconnect waits for the historian to commit what the last
    connection published (for the DUP check), which cannot happen. The wait is bounded: each attempt fails, is counted
    and retried, no message is acknowledged meanwhile, and once the database is back the driver reconnects by itself
    and every value (and the malformed message's dead letter) is stored exactly once."""
    from scada.ingest.models import DeadLetter

    settings.MQTT_COMMIT_WAIT_S = 0.5
    device, tags = mqtt_device(mqtt_url, {"S.PV": "S.PV"}, topic_prefix="settle/test")
    key = tags["S.PV"].key
    base = int(time.time() * 1000)  # recent: values stamped longer ago than SCADA_LIVE_MAX_AGE_S are not current

    def message(i):
        return orjson.dumps({"tag": "S.PV", "value": float(i), "ts": base + i})

    gw = GatewayThread(reconnect_max=0.3).start()
    pub = Publisher(mqtt_url)
    try:
        wait_for(lambda: gw.connected(device), what="connected")
        pub.sync([pub.send("settle/test/x", message(0))])
        wait_for(lambda: len(_good(key)) == 1, what="the first value stored")
        driver = gw.driver(device)
        with database_away():
            # received, published to the gateway's queue, never committed: not acknowledged
            pub.sync([pub.send("settle/test/x", message(i)) for i in range(1, 6)]
                     + [pub.send("settle/test/x", b"{not json")])
            wait_for(lambda: gw.current(tags["S.PV"])[0] == 5.0, what="values 1-5 received")
            gw.cut_broker_link(device)
            wait_for(lambda: driver.commit_wait_timeouts >= 2, what="bounded commit waits, retried")
            assert not gw.connected(device)
            pub.sync([pub.send("settle/test/x", message(i)) for i in range(6, 9)])  # queued by the broker
            assert DeadLetter.objects.filter(topic="settle/test/x").count() == 0
        wait_for(lambda: len(_good(key)) == 9, timeout=60, what="every value after the database is back")
        wait_for(lambda: gw.connected(device), what="reconnected by itself")
        wait_for(lambda: DeadLetter.objects.filter(topic="settle/test/x").count() == 1, what="the dead letter")
        time.sleep(0.5)  # a duplicate (row or dead letter) would arrive now
    finally:
        pub.close()
        gw.stop()
    assert [v for _ts, v in _good(key)] == [float(i) for i in range(9)]  # each once, none lost
    assert DeadLetter.objects.filter(topic="settle/test/x").count() == 1


@pytest.mark.usefixtures("clean_historian")
def test_a_dead_letter_the_database_refuses_is_logged_and_does_not_wedge_the_session(mqtt_url, caplog):
    """With Receive Maximum 1 the broker sends the next message only once the previous one is acknowledged, so a
    message left unacknowledged stops the whole subscription. A binary payload (NUL bytes: PostgreSQL text refuses
    them) is dead-lettered with U+FFFD in their place; a dead letter the database refuses for its content (a CHECK
    constraint here) is logged at ERROR with its payload and acknowledged. Every valid message after them arrives."""
    from scada.ingest.models import DeadLetter

    device, tags = mqtt_device(mqtt_url, {"W.PV": "W.PV"}, topic_prefix="wedge/test", receive_maximum=1)
    key = tags["W.PV"].key
    table = DeadLetter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT test_refuses_poison "
                       "CHECK (payload NOT LIKE '%%poison%%') NOT VALID")
    gw = GatewayThread().start()
    pub = Publisher(mqtt_url)
    try:
        wait_for(lambda: gw.connected(device), what="connected")
        infos = [pub.send("wedge/test/x", orjson.dumps({"tag": "W.PV", "value": 0.0, "ts": 1767225600000})),
                 pub.send("wedge/test/bin", b"\x00\x01\xffgarbage\x00"),
                 pub.send("wedge/test/poison", orjson.dumps([{"tag": "W.PV", "value": 1.0, "ts": 1767225600001},
                                                             {"tag": "NOPE", "value": "poison"},
                                                             {"tag": "NOPE2", "value": 2}]))]
        infos += [pub.send("wedge/test/x", orjson.dumps({"tag": "W.PV", "value": float(i), "ts": 1767225600000 + i}))
                  for i in range(2, 12)]
        pub.sync(infos)
        wait_for(lambda: len(_good(key)) == 12, what="every valid value (no wedged message)")
        driver = gw.driver(device)
        assert (driver.dead_letters, driver.dead_letters_refused) == (2, 1)
    finally:
        pub.close()
        gw.stop()
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS test_refuses_poison")
    assert [v for _ts, v in _good(key)] == [float(i) for i in range(12)]
    binary = DeadLetter.objects.get(topic="wedge/test/bin")
    assert binary.payload == "\ufffd\x01\ufffdgarbage\ufffd" and binary.reason.startswith("malformed JSON")
    # the poison message: its storable dead letter is written, the refused one is in the log, the message acknowledged
    assert list(DeadLetter.objects.filter(topic="wedge/test/poison").values_list("reason", flat=True)) == [
        "[2] unknown tag 'NOPE2'"]
    refused = [r for r in caplog.records if r.levelname == "ERROR" and "refused a dead letter" in r.getMessage()]
    assert len(refused) == 1 and "poison" in refused[0].getMessage() and "wedge/test/poison" in refused[0].getMessage()


@pytest.mark.usefixtures("clean_historian")
def test_dead_letters_not_written_hold_only_their_message_and_are_retried_without_a_reconnect(mqtt_url):
    """The dead-letter table is unusable for a while (renamed away: the insert fails, the historian still commits).
    Only the malformed message is held unacknowledged; its neighbours are stored and acknowledged (Receive Maximum 2:
    one slot stays free). When the table is back the write is retried with no reconnect and no new malformed input,
    the held message is acknowledged, and a reconnect then redelivers nothing (one dead letter, not two)."""
    from scada.ingest.models import DeadLetter

    device, tags = mqtt_device(mqtt_url, {"H.PV": "H.PV"}, topic_prefix="held/test", receive_maximum=2)
    key = tags["H.PV"].key
    table = DeadLetter._meta.db_table

    def value(i):
        return orjson.dumps({"tag": "H.PV", "value": float(i), "ts": 1767225600000 + i})

    def rename(old, new):
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")

    gw = GatewayThread().start()
    pub = Publisher(mqtt_url)
    renamed = False
    try:
        wait_for(lambda: gw.connected(device), what="connected")
        driver = gw.driver(device)
        rename(table, f"{table}_away")
        renamed = True
        pub.sync([pub.send("held/test/bad", b"{not json")] + [pub.send("held/test/x", value(i)) for i in range(10)])
        wait_for(lambda: len(_good(key)) == 10, what="the neighbours of the held message stored")
        assert driver.dead_letter_failures >= 1
        rename(f"{table}_away", table)
        renamed = False
        wait_for(lambda: DeadLetter.objects.filter(topic="held/test/bad").exists(), what="the dead letter retried")
        pub.sync([pub.send("held/test/x", value(10))])
        wait_for(lambda: len(_good(key)) == 11, what="a value committed after the held message's acknowledgement")
        runner = gw.gateway.runners[str(device.pk)]
        connects = runner.connects
        gw.cut_broker_link(device)  # an unacknowledged message would come back now (DUP) and be dead-lettered again
        wait_for(lambda: runner.connects > connects and gw.connected(device), what="reconnected")
        pub.sync([pub.send("held/test/x", value(11))])
        wait_for(lambda: len(_good(key)) == 12, what="a value after the reconnect")
    finally:
        if renamed:
            rename(f"{table}_away", table)
        pub.close()
        gw.stop()
    assert DeadLetter.objects.filter(topic="held/test/bad").count() == 1
    assert [v for _ts, v in _good(key)] == [float(i) for i in range(12)]
