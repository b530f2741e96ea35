import pytest

from scada.alarms.choices import AlarmState as S
from scada.alarms.gateway_hook import TRANSITION_LISTENERS, AlarmHook
from scada.alarms.models import Alarm
from scada.runtime.gateway import SAMPLE_HOOKS
from scada.runtime.samples import Sample
from tests.alarms.conftest import T0


def test_alarm_hook_is_registered_with_the_gateway():
    assert any(isinstance(h, AlarmHook) for h in SAMPLE_HOOKS)


def test_hook_loads_reloads_and_reports_transitions(tag, define):
    seen = []
    TRANSITION_LISTENERS.append(seen.extend)
    try:
        hook = AlarmHook()
        hook.CHECK_EVERY_S = 0  # re-check the configuration on every batch
        defn = define(tag, "HH", 100.0)
        assert hook.run([Sample(key=tag.key, ts=T0, value=150.0)]) == 1
        assert Alarm.objects.get(definition=defn).state == S.UNACKED
        # A definition added while running is picked up without a restart.
        low = define(tag, "LL", 10.0)
        hook.run([Sample(key=tag.key, ts=T0 + 1, value=5.0)])
        assert Alarm.objects.get(definition=low).state == S.UNACKED
        assert [j.event for j in seen] == ["raise", "clear", "raise"]
    finally:
        TRANSITION_LISTENERS.remove(seen.extend)


@pytest.mark.parametrize("quality", [2, 3])
def test_bad_batches_do_not_raise_limits(tag, define, quality):
    hook = AlarmHook()
    defn = define(tag, "LL", 10.0)
    hook.run([Sample(key=tag.key, ts=T0, value=None, quality=quality)])
    assert Alarm.objects.get(definition=defn).state == S.NORMAL
