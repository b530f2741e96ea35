"""Small hub-side pieces with sharp edges: array literals built by hand for the versions, the receipts' COPY text,
the append-only records inserted before the edge's lock, and the garbage-collector tuning the long-running processes
apply."""

import gc
import uuid

import pytest
from django.db import connection

from apps.sync.models import AggregateVersion
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


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_receipt_and_version_look_ups_stay_on_their_index_on_big_tables(monkeypatch):
    """With ~10^5-10^6 rows the planner prices a few thousand index probes above a sequential scan, and the hub read
    the whole receipts table for every batch (90 ms per 5,000 events at a million receipts, growing). The receipt
    look-up is bounded by the batch's UUIDv7 range; the version look-up probes record by record (LATERAL)."""
    import contextlib

    from apps.core.ids import uuid7
    from apps.sync import services

    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO sync_receivedevent (edge_id, event_id, sequence, aggregate_type, aggregate_id, op, outcome,
                                            received_at)
            SELECT 'edge-big', (lpad(to_hex(1700000000000 + i / 50), 12, '0') || '7' || lpad(to_hex(i % 4096), 3, '0')
                                || '8' || lpad(to_hex(i), 15, '0'))::uuid,
                   i, 'wells.well', 'x', 'upsert', 'accepted', now()
            FROM generate_series(1, 200000) AS i""")
        cursor.execute("""
            INSERT INTO sync_aggregateversion (aggregate_type, aggregate_id, origin, sequence, applied_at)
            SELECT 'wells.well', md5(i::text)::uuid::text, 'edge-big', i, now() FROM generate_series(1, 200000) AS i""")
        cursor.execute("ANALYZE sync_receivedevent")
        cursor.execute("ANALYZE sync_aggregateversion")
    plans = []
    real = services._bound_cursor

    class Explaining:
        def __init__(self, cursor):
            self.cursor = cursor

        def execute(self, sql, params=None, **kw):
            if sql.lstrip().startswith("SELECT"):
                self.cursor.execute("EXPLAIN " + sql, params, **kw)
                plans.append("\n".join(r[0] for r in self.cursor.fetchall()))
            return self.cursor.execute(sql, params, **kw)

        def __getattr__(self, name):
            return getattr(self.cursor, name)

    @contextlib.contextmanager
    def explaining():
        with real() as cursor:
            yield Explaining(cursor)

    monkeypatch.setattr(services, "_bound_cursor", explaining)
    new_ids = [str(uuid7()) for _ in range(5000)]
    assert services._received("edge-big", new_ids) == set()
    wells = [str(uuid.uuid4()) for _ in range(2500)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT md5('7')::uuid::text")
        known = cursor.fetchone()[0]
    found = services._existing(AggregateVersion, "aggregate_id", [*wells, known], aggregate_type="wells.well",
                               per_value=True, columns=("aggregate_id", "sequence"))
    assert found == [(known, 7)]
    assert len(plans) == 2
    for plan in plans:
        assert "Seq Scan" not in plan, plan
