import itertools
import time

import pytest

from scada.alarms import services
from scada.alarms.engine import AlarmEngine
from scada.alarms.models import AlarmDefinition
from scada.runtime.samples import Sample
from tests.scada.helpers import make_device, make_tag

T0 = float(int(time.time()) - 3600)  # samples an hour ago, so operator actions (now) come after them


@pytest.fixture
def tag(world):
    return make_tag(make_device(world.site_a), name="W01.THP", eng_low=0, eng_high=350, unit="bar")


@pytest.fixture
def tag_b(world):
    return make_tag(make_device(world.site_b), name="W90.THP", eng_low=0, eng_high=350, unit="bar")


@pytest.fixture
def define():
    def make(tag, kind="HH", setpoint=100.0, **fields):
        fields.setdefault("priority", "high")
        fields.setdefault("message", f"{kind} tubing head pressure")
        defn = AlarmDefinition(tag=tag, kind=kind, setpoint=setpoint, **fields)
        defn.full_clean()
        defn.save()
        services.ensure_alarm(defn)
        return defn

    return make


@pytest.fixture
def engine():
    e = AlarmEngine()
    return e


class Feed:
    """Feeds samples to an engine at 1-second steps from T0."""

    def __init__(self, engine, tag, start: int = 0):
        self.engine, self.tag, self.clock = engine, tag, itertools.count(start)

    def __call__(self, value, quality=0, dt=1.0):
        ts = T0 + next(self.clock) * dt
        return self.engine.process([Sample(key=self.tag.key, ts=ts, value=value, quality=quality)])


@pytest.fixture
def feed(engine, tag):
    return Feed(engine, tag)
