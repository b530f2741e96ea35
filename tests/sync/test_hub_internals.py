"""Small hub-side pieces with sharp edges: array literals built by hand for the versions, the receipts' COPY text,
the append-only records inserted before the edge's lock, and the garbage-collector tuning the long-running processes
apply."""

import gc

import pytest
from django.db import connection

from apps.sync.services import _Event, _pg_array, _record_receipts


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("values", [
    ["plain", "0191e7a4-6f2e-7c3d-9a1b-2c3d4e5f6a7b"],
    ["a,b", "{x}", "NULL", "", " spaced ", "ü"],  # quoted: commas, braces, NULL-like words stay text
    ['he said "hi"', "back\\slash", 'x\\"y', "\\"],  # the escaping path
    [],
])
def test_array_literal_round_trips_through_postgresql(values):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [_pg_array(values)])
        assert cursor.fetchone()[0] == values


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_receipts_copy_keeps_tabs_newlines_and_backslashes_in_text_fields():
    """Receipts go in with COPY's text format: an aggregate id or origin holding its separators must arrive as sent
    (a character primary key may hold anything)."""
    from django.utils import timezone

    from apps.sync.models import ReceivedEvent

    odd = ["tab\there", "new\nline", "back\\slash\\N", "\\N", "cr\rx", "plain"]
    events = []
    for i, agg in enumerate(odd):
        ev = _Event(i, f"0191e7a4-6f2e-7c3d-9a1b-2c3d4e5f6a{i:02d}", 10 + i, "x.y\tz", agg, "upsert", {})
        events.append(ev)
    results = [{"status": "accepted"} for _ in events]
    _record_receipts("edge\\odd", events, results, timezone.now())
    got = dict(ReceivedEvent.objects.filter(edge_id="edge\\odd").values_list("sequence", "aggregate_id"))
    assert got == {10 + i: agg for i, agg in enumerate(odd)}
    assert set(ReceivedEvent.objects.filter(edge_id="edge\\odd").values_list("aggregate_type", flat=True)) == {
        "x.y\tz"}


def test_gc_tuning_freezes_start_up_objects_and_raises_the_first_threshold(settings):
    from erp import gctune

    before = gc.get_threshold()
    try:
        settings.GC_GEN0_THRESHOLD = 0  # off: Python's defaults stay
        gctune.tune()
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        settings.GC_GEN0_THRESHOLD = 12345
        gctune.tune()
        assert gc.get_threshold() == (12345, before[1], before[2])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
