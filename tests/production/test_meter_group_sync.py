"""A meter's allocation group (the ``wells`` M2M) travels with the meter: a change of the group writes a fresh event
of the meter whose payload extras name the wells by id, and the receiver makes the group exactly that."""

import uuid

import pytest

from apps.production.models import Meter
from apps.sync import registry
from apps.sync.models import OutboxEvent
from tests.wells import factories as f

pytestmark = pytest.mark.django_db


def _groups_sent(meter):
    return [e.payload["_extras"]["wells"] for e in OutboxEvent.objects.filter(
        aggregate_type="production.meter", aggregate_id=str(meter.pk)).order_by("sequence")]


def test_a_group_change_from_either_side_writes_an_event_of_the_meter(world, settings):
    settings.EDGE_ROLE = "edge"
    w1, w2 = f.well(world), f.well(world)
    meter = Meter.objects.create(code="M-SYNC", name="LACT", site=world.site_a)
    meter.wells.add(w1, w2)
    w2.meters.remove(meter)
    w1.meters.clear()
    assert _groups_sent(meter) == [[], sorted([str(w1.pk), str(w2.pk)]), [str(w1.pk)], []]


def test_changes_applied_from_the_other_side_write_no_event(world, settings):
    settings.EDGE_ROLE = "edge"
    meter = Meter.objects.create(code="M-QUIET", name="LACT", site=world.site_a)
    with registry.applying_remote():
        meter.wells.add(f.well(world))
    assert len(_groups_sent(meter)) == 1  # the creation only


def test_the_receiver_makes_the_group_exactly_the_wells_sent(world):
    w1, w2, w3 = f.well(world), f.well(world), f.well(world)
    meter = Meter.objects.create(code="M-HUB", name="LACT", site=world.site_a)
    meter.wells.set([w1, w2])
    Meter.sync_apply_extras({str(meter.pk): {"wells": [str(w2.pk), str(w3.pk)]}})
    assert set(meter.wells.values_list("pk", flat=True)) == {w2.pk, w3.pk}
    Meter.sync_apply_extras({str(meter.pk): {"wells": []}})
    assert not meter.wells.exists()


@pytest.mark.parametrize("extras, reason", [
    ({"wells": [str(uuid.uuid4())]}, "not on this box yet"),
    ({"wells": "all"}, "must be a list"),
    ({"wells": ["not-a-uuid"]}, "not a list of well ids"),
    ({}, "must be a list"),
])
def test_the_receiver_refuses_a_group_it_cannot_apply_whole(world, extras, reason):
    w1 = f.well(world)
    meter = Meter.objects.create(code="M-BAD", name="LACT", site=world.site_a)
    meter.wells.set([w1])
    with pytest.raises(registry.Refused, match=reason):
        Meter.sync_apply_extras({str(meter.pk): extras})
    assert list(meter.wells.values_list("pk", flat=True)) == [w1.pk]
