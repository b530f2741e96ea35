"""Every transition of the ISA-18.2 state model, and random event sequences that must keep its invariants."""

import random

import pytest

from scada.alarms.choices import AlarmEvent as E
from scada.alarms.choices import AlarmState as S
from scada.alarms.models import Alarm
from scada.alarms.services import InvalidTransition, next_state

EXPECTED = {
    # (state, active, event): next state  (missing combinations are invalid)
    (S.NORMAL, True, E.RAISE): S.UNACKED,
    (S.UNACKED, True, E.ACK): S.ACKED,
    (S.UNACKED, False, E.CLEAR): S.RTN_UNACKED,
    (S.ACKED, False, E.CLEAR): S.NORMAL,
    (S.RTN_UNACKED, False, E.ACK): S.NORMAL,
    (S.RTN_UNACKED, True, E.RAISE): S.UNACKED,
}
for state in (S.NORMAL, S.UNACKED, S.ACKED, S.RTN_UNACKED):
    for active in (True, False):
        EXPECTED[(state, active, E.SHELVE)] = S.SHELVED
        EXPECTED[(state, active, E.SUPPRESS)] = S.SUPPRESSED
for active in (True, False):
    back = S.UNACKED if active else S.NORMAL
    EXPECTED[(S.SHELVED, active, E.UNSHELVE)] = back
    EXPECTED[(S.SHELVED, active, E.SHELVE_EXPIRED)] = back
    EXPECTED[(S.SHELVED, active, E.SUPPRESS)] = S.SUPPRESSED
    EXPECTED[(S.SUPPRESSED, active, E.UNSUPPRESS)] = back
    EXPECTED[(S.OUT_OF_SERVICE, active, E.RETURN_TO_SERVICE)] = back
    for state in (S.NORMAL, S.UNACKED, S.ACKED, S.RTN_UNACKED, S.SHELVED, S.SUPPRESSED):
        EXPECTED[(state, active, E.REMOVE_FROM_SERVICE)] = S.OUT_OF_SERVICE
    for silenced in (S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE):
        EXPECTED[(silenced, active, E.RAISE if active else E.CLEAR)] = silenced


def _alarm(state, active):
    return Alarm(state=state, active=active)


IMPLIED = {S.UNACKED: True, S.ACKED: True, S.NORMAL: False, S.RTN_UNACKED: False}
CASES = [(state, active, event) for state in S for active in (True, False) for event in E
         if IMPLIED.get(state, active) == active]  # e.g. ACKED always has its condition active


@pytest.mark.parametrize(("state", "active", "event"), CASES)
def test_transition_table(state, active, event):
    """The whole table: (state, condition active, event) -> next state or refused."""
    alarm = _alarm(state, active)
    # RAISE/CLEAR set the condition before the state is computed.
    if event == E.RAISE:
        alarm.active = True
    if event == E.CLEAR:
        alarm.active = False
    key = (state, alarm.active, event)
    if event in (E.RAISE, E.CLEAR) and not ((event == E.RAISE) == active):
        key = None  # a raise with the condition already inactive (or a clear while active) is not a real input
    expected = EXPECTED.get(key) if key else None
    if expected is None:
        if key is None:
            return
        with pytest.raises(InvalidTransition):
            next_state(alarm, event)
    else:
        assert next_state(alarm, event) == expected


def test_random_sequences_keep_the_invariants():
    """10,000 random inputs: the state always agrees with the condition it claims."""
    rng = random.Random(18_2)
    for _ in range(200):
        alarm = _alarm(S.NORMAL, False)
        for _ in range(50):
            event = rng.choice(list(E))
            if event == E.RAISE and alarm.active or event == E.CLEAR and not alarm.active:
                continue
            probe = _alarm(alarm.state, alarm.active)
            if event == E.RAISE:
                probe.active = True
            elif event == E.CLEAR:
                probe.active = False
            try:
                new = next_state(probe, event)
            except InvalidTransition:
                continue
            alarm.state, alarm.active = new, probe.active
            if alarm.state == S.ACKED:
                assert alarm.active
            if alarm.state in (S.RTN_UNACKED, S.NORMAL):
                assert not alarm.active
            if alarm.state == S.UNACKED:
                assert alarm.active
