from datetime import UTC, datetime, timedelta

from django.utils import timezone

from scada.alarms import services
from scada.alarms.choices import AlarmState as S
from scada.alarms.engine import AlarmEngine
from scada.alarms.models import Alarm, AlarmFlood, AlarmJournal
from scada.runtime.samples import Sample
from tests.alarms.conftest import T0, Feed


def state(defn):
    return Alarm.objects.get(definition=defn)


def events(defn):
    return list(AlarmJournal.objects.filter(alarm__definition=defn).order_by("at", "occurrence", "event")
                .values_list("event", flat=True))


def test_high_limit_raises_and_clears_only_past_the_deadband(tag, define, engine, feed):
    defn = define(tag, "HH", 100.0, deadband=5.0)
    engine.load()
    feed(90)
    assert state(defn).state == S.NORMAL
    feed(100.0)  # at the limit: raise
    alarm = state(defn)
    assert alarm.state == S.UNACKED and alarm.active and alarm.occurrence == 1 and alarm.value == 100.0
    feed(97)  # back under the limit but inside the deadband: still active
    assert state(defn).state == S.UNACKED
    feed(94.9)  # below limit - deadband: returned to normal, unacknowledged
    assert state(defn).state == S.RTN_UNACKED
    assert events(defn) == ["raise", "clear"]


def test_low_limit_and_digital_alarms(tag, define, engine, feed):
    low = define(tag, "LL", 10.0, deadband=1.0)
    engine.load()
    feed(9.5)
    assert state(low).state == S.UNACKED
    feed(10.5)
    assert state(low).state == S.UNACKED  # inside the deadband
    feed(11.5)
    assert state(low).state == S.RTN_UNACKED


def test_on_delay_filters_a_spike(tag, define, engine, feed):
    defn = define(tag, "H", 100.0, on_delay_s=5)
    engine.load()
    feed(150)
    feed(150)
    feed(80)  # the spike lasted 2 s: nothing raised
    assert state(defn).state == S.NORMAL and not events(defn)
    for _ in range(6):
        feed(150)
    assert state(defn).state == S.UNACKED


def test_off_delay_keeps_a_chattering_signal_from_clearing(tag, define, engine, feed):
    defn = define(tag, "H", 100.0, off_delay_s=10)
    engine.load()
    feed(150)
    for value in (80, 150, 80, 150, 80):
        feed(value)
    assert events(defn) == ["raise"]
    for _ in range(11):
        feed(80)
    assert events(defn) == ["raise", "clear"]


def test_bad_quality_is_a_comm_alarm_not_a_limit_crossing(tag, define, engine, feed):
    high = define(tag, "H", 100.0)
    low = define(tag, "L", 10.0)
    comm = define(tag, "COMM", None, priority="medium", message="RTU communication failure")
    engine.load()
    feed(50)
    feed(None, quality=2)  # Bad: no value
    assert state(high).state == S.NORMAL and state(low).state == S.NORMAL
    assert state(comm).state == S.UNACKED
    feed(60)
    assert state(comm).state == S.RTN_UNACKED
    feed(150)
    feed(None, quality=3)  # stale holds the high alarm as it is
    assert state(high).state == S.UNACKED


def test_rate_of_change(tag, define, engine, feed):
    defn = define(tag, "ROC", 30.0)  # 30 bar per minute
    engine.load()
    feed(100)
    feed(100.2)  # 12 bar/min
    assert state(defn).state == S.NORMAL
    feed(101.0)  # 48 bar/min
    assert state(defn).state == S.UNACKED


def test_restart_resumes_without_duplicate_raise_or_lost_clear(tag, define, engine, feed):
    defn = define(tag, "HH", 100.0)
    engine.load()
    feed(150)
    assert events(defn) == ["raise"]
    restarted = AlarmEngine()
    restarted.load()
    Feed(restarted, tag, start=100)(160)  # still high after the restart: no second raise
    assert events(defn) == ["raise"] and state(defn).occurrence == 1
    again = AlarmEngine()
    again.load()
    Feed(again, tag, start=200)(20)  # cleared while the gateway was down: cleared on the first sample
    assert events(defn) == ["raise", "clear"]


def test_acknowledged_in_the_web_process_then_cleared_by_the_engine_goes_to_normal(tag, define, engine, feed,
                                                                                       personas):
    defn = define(tag, "HH", 100.0)
    engine.load()
    feed(150)
    services.acknowledge(personas["operator"], state(defn).pk)  # the engine's cached object is now stale
    feed(20)
    assert state(defn).state == S.NORMAL
    assert sorted((j.from_state, j.to_state) for j in AlarmJournal.objects.all()) == sorted([
        ("NORMAL", "UNACKED"), ("UNACKED", "ACKED"), ("ACKED", "NORMAL")])  # not ACKED -> RTN_UNACKED


def test_shelve_expires_by_itself_and_returns_unacked_while_active(tag, define, engine, feed, personas):
    defn = define(tag, "H", 100.0)
    engine.load()
    feed(150)
    services.shelve(personas["operator"], state(defn).pk, "sensor being recalibrated", timedelta(minutes=30))
    assert state(defn).state == S.SHELVED
    feed(20)
    feed(150)  # while shelved the condition is tracked, not annunciated
    assert state(defn).state == S.SHELVED and state(defn).occurrence == 1
    engine.tick(timezone.now() + timedelta(minutes=31))
    alarm = state(defn)
    assert alarm.state == S.UNACKED and alarm.shelved_until is None
    assert AlarmJournal.objects.filter(event="shelve_expired").count() == 1


def test_suppressed_by_design_while_the_well_is_shut_in(world, tag, define, engine, feed):
    from apps.wells.models import Well

    well = Well.objects.create(site=world.site_a, name="W01", uwi="UWI-001", status="shut_in")
    tag.well = well
    tag.save()
    defn = define(tag, "L", 10.0)
    engine.load()
    feed(0)  # a shut-in well has low pressure by design
    alarm = state(defn)
    assert alarm.state == S.SUPPRESSED and alarm.active
    well.status = "producing"
    well.save()
    engine.load()
    feed(0)
    assert state(defn).state == S.UNACKED


def test_flood_indicator_on_above_10_in_10_minutes_off_below_5(world, define, engine):
    from tests.scada.helpers import make_device, make_tag

    device = make_device(world.site_a)
    tags = [make_tag(device, name=f"F{i}.PV", address=i * 2) for i in range(12)]
    for t in tags:
        define(t, "H", 100.0)
    engine.load()
    engine.process([Sample(key=t.key, ts=T0 + i, value=150.0) for i, t in enumerate(tags[:10])])
    flood = AlarmFlood.objects.get(site=world.site_a)
    assert flood.active is False and flood.rate == 10
    engine.process([Sample(key=tags[10].key, ts=T0 + 20, value=150.0)])
    flood.refresh_from_db()
    assert flood.active is True
    later = services.evaluate_flood(world.site_a.pk, datetime.fromtimestamp(T0 + 1200, tz=UTC))
    assert later.active is False


def test_raise_notifies_by_rule_and_priority(world, tag, define, engine, feed, personas,
                                             django_capture_on_commit_callbacks):
    from apps.core.models import Notification
    from scada.alarms.models import AlarmNotificationRule

    AlarmNotificationRule.objects.create(name="Field A supervisors", min_priority="high", field=world.field_a,
                                         role="supervisor")
    define(tag, "HH", 100.0, priority="critical")
    define(tag, "H", 90.0, priority="low")
    engine.load()
    with django_capture_on_commit_callbacks(execute=True):
        feed(150)
    notes = Notification.objects.filter(recipient=personas["supervisor"])
    assert [n.subject for n in notes] == ["Critical alarm: W01.THP HH tubing head pressure"]
    assert notes[0].severity == "critical"
