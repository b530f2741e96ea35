"""The historian on PostgreSQL (binary COPY, daily partitions, retention), on SQLite, and the history endpoint."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from scada import historian
from tests.scada.helpers import make_device, make_tag


def _aligned_start(hours_back=3):
    return (datetime.now(UTC) - timedelta(hours=hours_back)).replace(minute=0, second=0, microsecond=0)


def _load_ramp(tag, start, n=1000, step=1.0):
    """value = i at start + i*step seconds; every 7th point Bad (no value)."""
    rows = [(start.timestamp() + i * step, tag.key, None if i % 7 == 3 else float(i), 2 if i % 7 == 3 else 0)
            for i in range(n)]
    historian.write_rows(rows)
    return rows


@pytest.mark.django_db
def test_history_endpoint_downsamples_to_min_avg_max_buckets(world, api_for):
    tag = make_tag(make_device(world.site_a), unit="bar")
    start = _aligned_start()
    _load_ramp(tag, start)
    end = start + timedelta(seconds=1000)
    url = f"/api/v1/scada/tags/{tag.pk}/history/"
    body = api_for("viewer").get(url, {"start": start.isoformat(), "end": end.isoformat(), "max_points": 10}).json()
    assert body["bucket_seconds"] == 100 and len(body["points"]) == 10
    for b, point in enumerate(body["points"]):
        goods = [i for i in range(b * 100, b * 100 + 100) if i % 7 != 3]
        assert point["min"] == min(goods) and point["max"] == max(goods)
        assert point["avg"] == pytest.approx(sum(goods) / len(goods))
        assert point["count"] == len(goods)
        assert point["ts"] == (start + timedelta(seconds=100 * b)).isoformat()
    # enough room: the raw rows, qualities included
    raw = api_for("viewer").get(url, {"start": start.isoformat(), "end": (start + timedelta(seconds=20)).isoformat(),
                                      "max_points": 50}).json()
    assert raw["resolution"] == "raw" and len(raw["points"]) == 20
    assert raw["points"][3] == {"ts": (start + timedelta(seconds=3)).isoformat(), "value": None, "quality": 2}


@pytest.mark.django_db
def test_history_scope_and_validation(world, api_for):
    outside = make_tag(make_device(world.site_b))
    client = api_for("supervisor")
    assert client.get(f"/api/v1/scada/tags/{outside.pk}/history/").status_code == 404
    inside = make_tag(make_device(world.site_a))
    r = client.get(f"/api/v1/scada/tags/{inside.pk}/history/", {"start": "2026-01-02T00:00:00Z",
                                                                "end": "2026-01-01T00:00:00Z"})
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "start"
    r = client.get(f"/api/v1/scada/tags/{inside.pk}/history/", {"max_points": 10**6})
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "max_points"


@pytest.mark.django_db
def test_history_csv_export(world, api_for):
    tag = make_tag(make_device(world.site_a), unit="bar")
    start = _aligned_start()
    _load_ramp(tag, start, n=30)
    response = api_for("viewer").get(f"/api/v1/scada/tags/{tag.pk}/history/csv/",
                                     {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "timestamp,tag,value,unit,quality"
    assert len(lines) == 31
    assert lines[2].split(",")[1:] == [tag.name, "1.0", "bar", "Good"]
    assert lines[4].split(",")[2:] == ["", "bar", "Bad"]
    buckets = api_for("viewer").get(f"/api/v1/scada/tags/{tag.pk}/history/csv/", {
        "start": start.isoformat(), "end": (start + timedelta(seconds=30)).isoformat(), "max_points": 3})
    rows = b"".join(buckets.streaming_content).decode().splitlines()
    assert rows[0].startswith("timestamp,tag,min,avg,max") and len(rows) == 4


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_copy_lands_in_daily_partitions_and_retention_drops_them():
    assert historian.backend() == "postgres"
    today = datetime.now(UTC).date()
    names = historian.partitions()
    assert f"scada_historian_p{today:%Y%m%d}" in names
    assert f"scada_historian_p{today + timedelta(days=7):%Y%m%d}" in names
    old = datetime.now(UTC) - timedelta(days=400)
    created = historian.ensure_partitions(now=old, days_ahead=0, days_behind=0)
    assert created == [f"scada_historian_p{old:%Y%m%d}"]
    historian.write_rows([(old.timestamp(), 1, 1.5, 0), (datetime.now(UTC).timestamp(), 1, 2.5, 0),
                          ((old - timedelta(days=30)).timestamp(), 1, 0.5, 0)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, value FROM scada_historian ORDER BY ts")
        placed = cursor.fetchall()
    assert placed == [("scada_historian_default", 0.5), (f"scada_historian_p{old:%Y%m%d}", 1.5),
                      (f"scada_historian_p{today:%Y%m%d}", 2.5)]
    dropped = historian.apply_retention(days=365)
    assert f"scada_historian_p{old:%Y%m%d}" in dropped
    assert f"scada_historian_p{old:%Y%m%d}" not in historian.partitions()
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM scada_historian")
        assert cursor.fetchall() == [(2.5,)]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_binary_copy_round_trips_values_nulls_and_microseconds():
    ts = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC).timestamp()
    historian.ensure_partitions(now=datetime(2026, 11, 24, tzinfo=UTC), days_ahead=0, days_behind=0)
    historian.write_rows([(ts, 7, -1.25e-7, 0), (ts + 1, 7, None, 2), (ts + 2, 2**31 - 1, 1e300, 3)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT ts, tag_key, value, quality FROM scada_historian ORDER BY ts")
        rows = cursor.fetchall()
    assert rows[0] == (datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC), 7, -1.25e-7, 0)
    assert rows[1][2:] == (None, 2) and rows[2][1:] == (2**31 - 1, 1e300, 3)


def test_sqlite_historian_path(tmp_path, django_db_blocker):
    """The embedded demo's path on a real SQLite database: schema, executemany, history buckets, retention."""
    from django.db.utils import ConnectionHandler

    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "h.db")}})
    conn = handler["default"]
    blocker = django_db_blocker.unblock()
    blocker.__enter__()
    try:
        assert historian.create_schema(conn) == "sqlite" and historian.backend(conn) == "sqlite"
        start = _aligned_start()
        historian.write_rows([(start.timestamp() + i, 5, float(i), 0) for i in range(100)], conn)
        data = historian.history(5, start, start + timedelta(seconds=100), 4, connection=conn)
        assert [(p["min"], p["max"], p["count"]) for p in data["points"]] == [
            (0, 24, 25), (25, 49, 25), (50, 74, 25), (75, 99, 25)]
        assert data["points"][1]["avg"] == pytest.approx(37.0)
        raw = historian.raw_rows(5, start, start + timedelta(seconds=3), connection=conn)
        assert [r[1] for r in raw] == [0.0, 1.0, 2.0] and raw[0][0] == start
        historian.write_rows([((start - timedelta(days=500)).timestamp(), 5, -1.0, 0)], conn)
        historian.apply_retention(conn, days=365)
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*), min(value) FROM scada_historian")
            assert cursor.fetchone() == (100, 0.0)
    finally:
        conn.close()
        blocker.__exit__(None, None, None)


def test_timescale_statements_follow_the_documented_api():
    statements = "\n".join(historian.timescale_statements())
    assert "create_hypertable('scada_historian', 'ts', chunk_time_interval => INTERVAL '1 day'" in statements
    assert "timescaledb.compress_segmentby = 'tag_key'" in statements
    assert "add_compression_policy('scada_historian', compress_after => INTERVAL '7 days'" in statements
    assert "add_retention_policy('scada_historian', drop_after => INTERVAL '365 days'" in statements
    for view in ("scada_historian_1m", "scada_historian_1h"):
        assert (f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view} WITH (timescaledb.continuous, "
                "timescaledb.materialized_only = false)") in statements
        assert f"add_continuous_aggregate_policy('{view}'" in statements
    assert statements.count("WITH NO DATA") == 2


@pytest.mark.django_db
def test_sync_stream_reads_after_watermark_and_stores_idempotently(world):
    from scada.models import Tag

    device = make_device(world.site_a)
    a, b = make_tag(device, name="SYNC.A"), make_tag(device, name="SYNC.B", address=2)
    start = _aligned_start()
    historian.write_rows([(start.timestamp() + i // 2, (a.key, b.key)[i % 2], float(i), 0) for i in range(10)])
    rows, mark = historian.read_after(None, limit=4)
    assert [r[1:3] for r in rows] == [["SYNC.A", 0.0], ["SYNC.B", 1.0], ["SYNC.A", 2.0], ["SYNC.B", 3.0]]
    rest, mark2 = historian.read_after(mark, limit=100)
    assert [r[2] for r in rest] == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert historian.read_after(mark2) == ([], mark2)
    # hub side: storing the same chunk twice keeps one copy of each row
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM scada_historian")
    assert historian.store_remote("edge-1", rows + [[rows[0][0], "UNKNOWN", 1.0, 0]]) == 4
    assert historian.store_remote("edge-1", rows) == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scada_historian")
        assert cursor.fetchone()[0] == 4
    assert Tag.objects.count() == 2
