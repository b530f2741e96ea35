"""Old samples from timestamped sources are history: an HTTP ingest point or an MQTT JSON value stamped longer ago than
SCADA_LIVE_MAX_AGE_S (a device or a third-party system flushing its buffer after an outage) is stored in the historian
but raises no alarm, does not change the current value and never reaches the live HMI stream; a fresh one does all
of that. End to end: the real gateway with the real alarm hook, PostgreSQL, Mosquitto and the ingest API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from scada.runtime.samples import GOOD, Sample, mark_historical
from tests.scada.mqtt_helpers import GatewayThread, Publisher, mqtt_device, rows, wait_for

ROOT = Path(__file__).resolve().parents[2]
HH = 100.0  # bar


def test_the_rule_age_either_way_and_never_back_in_time(settings):
    settings.SCADA_LIVE_MAX_AGE_S = 300
    now = 1_790_000_000.0
    newest: dict[int, float] = {}
    samples = [
        Sample(1, now - 3600, 1.0),  # an hour old: history
        Sample(1, now - 60, 2.0),  # a minute old: live
        Sample(1, now - 120, 3.0),  # recent, but older than the value already live: history
        Sample(1, now - 60, 4.0),  # the same time as the live one (messages without a ts): live
        Sample(2, now + 3600, 5.0),  # an hour ahead (a wrong clock): history
        Sample(2, now, 6.0),
        Sample(3, now, 7.0, historical=True),  # flagged by its source (Sparkplug is_historical): left as it is
    ]
    assert mark_historical(samples, newest, now) == 3
    assert [s.historical for s in samples] == [True, False, True, False, True, False, True]
    assert newest == {1: now - 60, 2: now}
    late = [Sample(1, now - 90, 8.0), Sample(3, now - 299, 9.0)]
    assert mark_historical(late, newest, now) == 1 and [s.historical for s in late] == [True, False]
    settings.SCADA_LIVE_MAX_AGE_S = 3600  # one setting for every source, read at each batch
    assert mark_historical([Sample(4, now - 3000, 1.0)], {}, now) == 1


def _settings_value(extra: dict) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST", "SCADA_"))}
    clean.update({"DEBUG": "1", "VAR_DIR": "/tmp/wellsite-settings-test", "TESTING": "0", **extra})
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='erp.settings'; django.setup();"
            "from django.conf import settings; print(settings.SCADA_LIVE_MAX_AGE_S)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_setting_keeps_the_former_csv_name_as_a_fallback():
    assert _settings_value({}) == "300.0"
    assert _settings_value({"SCADA_CSV_LIVE_MAX_AGE_S": "120"}) == "120.0"
    assert _settings_value({"SCADA_CSV_LIVE_MAX_AGE_S": "120", "SCADA_LIVE_MAX_AGE_S": "600"}) == "600.0"


# -- end to end --------------------------------------------------------------------------------------------------------
def _hh_alarm(tag):
    from scada.alarms import services
    from scada.alarms.models import AlarmDefinition

    definition = AlarmDefinition(tag=tag, kind="HH", setpoint=HH, priority="high", message="HH tubing head pressure")
    definition.full_clean()
    definition.save()
    services.ensure_alarm(definition)
    return definition


def _alarm_state(definition):
    from scada.alarms.models import Alarm

    return Alarm.objects.get(definition=definition).state


def _journal(definition):
    from scada.alarms.models import AlarmJournal

    return list(AlarmJournal.objects.filter(alarm__definition=definition).order_by("at").values_list("event", "value"))


def _has_row(key, ts, value):
    return any(abs(t - ts) < 1e-3 and v == value for _k, t, v, _q in rows(key))


def _gateway(seen):
    from scada.alarms.gateway_hook import AlarmHook

    # the recording hook first: the alarm hook commits a transition before the hooks after it have run
    return GatewayThread(hooks=[lambda samples, gw: seen.extend(samples), AlarmHook()]).start()


def _check_scenario(gw, tag, definition, seen, send):
    """A fresh normal value, an hour-old HH value (history), a fresh HH value (raises), each through ``send(value,
    ts)``; checks the historian, the current value, the hooks (live HMI stream) and the alarm after each."""
    from scada.alarms.choices import AlarmState as S

    now = time.time()
    send(50.0, now - 10)
    wait_for(lambda: gw.current(tag) and gw.current(tag)[0] == 50.0, what="the fresh normal value is current")
    wait_for(lambda: _has_row(tag.key, now - 10, 50.0), what="the fresh value stored")

    send(150.0, now - 3600)  # an HH value an hour old: a buffer flushed after an outage
    wait_for(lambda: _has_row(tag.key, now - 3600, 150.0), what="the old HH value stored")
    # the hooks run before the historian write: had the old value been live, the alarm engine would have seen it
    assert gw.current(tag)[:2] == (50.0, GOOD)
    assert [s.value for s in seen if s.key == tag.key] == [50.0]
    assert _alarm_state(definition) == S.NORMAL
    assert gw.gateway.stats.historical == 1

    send(150.0, now - 5)  # the same value, fresh: the alarm raises
    wait_for(lambda: _alarm_state(definition) == S.UNACKED, what="HH raised by the fresh value")
    assert gw.current(tag)[:2] == (150.0, GOOD)
    assert [s.value for s in seen if s.key == tag.key] == [50.0, 150.0]
    assert _journal(definition) == [("raise", 150.0)]
    wait_for(lambda: _has_row(tag.key, now - 5, 150.0), what="the fresh HH value stored")
    assert [(round(now - t), v) for _k, t, v, _q in rows(tag.key)] == [(3600, 150.0), (10, 50.0), (5, 150.0)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_historian")
def test_http_ingest_old_points_reach_the_historian_only(world, api_for):
    from apps.wells.models import Well
    from scada.models import Device, Tag

    well = Well.objects.create(site=world.site_a, name="W17", uwi="42-501-00017")
    device = Device.objects.create(site=world.site_a, name="HTTP-AGE", protocol="http_ingest", connection={},
                                   poll_interval_ms=50, stale_after_intervals=10_000)
    tag = Tag.objects.create(device=device, name="W17.THP", address={"key": "tubing_pressure"}, well=well,
                             unit="bar", eng_low=0, eng_high=350)
    definition = _hh_alarm(tag)
    client = api_for("scada")

    def send(value, ts):
        point = {"well_id": "W17", "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(),
                 "parameter_name": "tubing_pressure", "value": value, "unit": "bar"}
        response = client.post("/api/v1/ingest/realtime", {"tenant_id": "edge-01", "data_points": [point]},
                               format="json")
        assert response.status_code == 200 and response.json()["accepted_count"] == 1, response.json()

    seen = []
    gw = _gateway(seen)
    try:
        wait_for(lambda: gw.connected(device), what="ingest device running")
        _check_scenario(gw, tag, definition, seen, send)
    finally:
        gw.stop()
        _end_other_sessions()  # the driver's sync_to_async worker thread keeps its own connection open


def _end_other_sessions():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clean_historian")
def test_mqtt_json_old_values_reach_the_historian_only(mqtt_url):
    device, tags = mqtt_device(mqtt_url, {"W18.THP": "W18.THP"}, topic_prefix="age/test")
    tag = tags["W18.THP"]
    definition = _hh_alarm(tag)
    pub = Publisher(mqtt_url)
    forms = iter([
        lambda value, ts: {"tag": "W18.THP", "value": value, "ts": int(ts * 1000)},
        lambda value, ts: {"ts": datetime.fromtimestamp(ts, UTC).isoformat(), "values": {"W18.THP": value}},
        lambda value, ts: [{"tag": "W18.THP", "value": value, "ts": int(ts * 1000)}],
    ])

    def send(value, ts):
        pub.sync([pub.send("age/test/pad", orjson.dumps(next(forms)(value, ts)))])

    seen = []
    gw = _gateway(seen)
    try:
        wait_for(lambda: gw.connected(device), what="MQTT device connected")
        _check_scenario(gw, tag, definition, seen, send)
        pub.sync([pub.send("age/test/pad", orjson.dumps({"tag": "W18.THP", "value": 60.0}))])  # no ts: received now
        wait_for(lambda: gw.current(tag)[0] == 60.0, what="a value without a timestamp is live")
    finally:
        pub.close()
        gw.stop()
