# ruff: noqa: S608  (SQL is built from module constants and validated integers only; values are parameters)
"""The historian: a narrow table (ts, integer tag key, value, quality) on three kinds of database.

Which one is decided at migrate time (``backend()``):

- ``timescale``: PostgreSQL with the TimescaleDB extension. ``scada_historian`` is a hypertable with 1-day chunks,
  compressed after ``SCADA_COMPRESS_AFTER_DAYS`` (segment by tag_key, order by ts DESC), dropped after
  ``SCADA_RETENTION_DAYS`` by a retention policy, with continuous aggregates ``scada_historian_1m`` and
  ``scada_historian_1h`` (min/avg/max/count per tag and bucket) refreshed by policies. TimescaleDB runs all of it.
- ``postgres``: plain PostgreSQL. ``scada_historian`` is range-partitioned by day (``scada_historian_pYYYYMMDD``)
  plus a DEFAULT partition for stray timestamps; ``maintain()`` creates partitions ``SCADA_PARTITIONS_AHEAD_DAYS``
  ahead and drops those older than the retention (the gateway calls it at start and hourly).
- ``sqlite``: the embedded demo; a plain table with an index on (tag_key, ts), retention by DELETE.

Writes: ``write_rows(rows)`` with rows ``(ts_epoch_seconds, tag_key, value_or_None, quality)``; PostgreSQL uses a
binary COPY whose stream is packed here with ``struct`` (no per-value adaptation), SQLite ``executemany``.

Reads: ``history()`` (downsampled min/avg/max buckets, the API's /history) and ``rows_after()`` (the sync forwarder).
"""

from __future__ import annotations

import logging
import re
import struct
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection as default_connection

log = logging.getLogger("scada.historian")

TABLE = "scada_historian"
PG_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z in Unix seconds: the origin of PostgreSQL timestamps
PARTITION_RE = re.compile(rf"^{TABLE}_p(\d{{8}})$")
CAGGS = (("1m", "1 minute", 60), ("1h", "1 hour", 3600))


def _setting(name: str, default):
    return getattr(settings, name, default)


# -- detection and schema --------------------------------------------------------------------------------------------
def timescale_available(connection) -> bool:
    """Is TimescaleDB installed in this database (or installable: shared_preload_libraries has it)?"""
    if connection.vendor != "postgresql" or _setting("SCADA_TIMESCALE", "auto") == "off":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        if cursor.fetchone():
            return True
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        if not cursor.fetchone():
            return False
        cursor.execute("SHOW shared_preload_libraries")
        return "timescaledb" in (cursor.fetchone()[0] or "")


def backend(connection=None) -> str:
    """'timescale', 'postgres' or 'sqlite': what the historian table is on this database."""
    connection = connection or default_connection
    if connection.vendor == "sqlite":
        return "sqlite"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = 'timescaledb_information' "
            "AND table_name = 'hypertables'")
        if cursor.fetchone():
            cursor.execute("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s", [TABLE])
            if cursor.fetchone():
                return "timescale"
    return "postgres"


def create_schema(connection) -> str:
    """Create the historian table for this database (migration 0002). Returns the backend used."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (ts datetime NOT NULL, tag_key integer NOT NULL, "
                           "value real NULL, quality smallint NOT NULL DEFAULT 0)")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_key_ts ON {TABLE} (tag_key, ts)")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_ts ON {TABLE} (ts)")
        return "sqlite"
    columns = ("ts timestamptz NOT NULL, tag_key integer NOT NULL, value double precision, "
               "quality smallint NOT NULL DEFAULT 0")
    if timescale_available(connection):
        for statement in timescale_statements():
            with connection.cursor() as cursor:
                cursor.execute(statement.replace("{columns}", columns))
        return "timescale"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns}) PARTITION BY RANGE (ts)")
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_key_ts ON {TABLE} (tag_key, ts)")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    ensure_partitions(connection)
    return "postgres"


def timescale_statements() -> list[str]:
    """The TimescaleDB setup, in order (written from the TimescaleDB 2.x documentation; each is idempotent).

    - create_hypertable(..., chunk_time_interval => 1 day): the 2.x signature that all 2.x releases accept;
    - ALTER TABLE ... SET (timescaledb.compress, compress_segmentby, compress_orderby) + add_compression_policy;
    - add_retention_policy (drop_chunks older than the retention);
    - one continuous aggregate per resolution, created WITH NO DATA (allowed inside a transaction block) and with
      real-time aggregation on (materialized_only = false: the newest, not yet materialised buckets are computed
      from the hypertable at query time; TimescaleDB >= 2.13 defaults to materialised-only), each with a refresh
      policy whose window spans several buckets and leaves out the bucket being written.
    """
    compress_days = int(_setting("SCADA_COMPRESS_AFTER_DAYS", 7))
    retention_days = int(_setting("SCADA_RETENTION_DAYS", 365))
    statements = [
        "CREATE EXTENSION IF NOT EXISTS timescaledb",
        f"CREATE TABLE IF NOT EXISTS {TABLE} ({{columns}})",
        f"SELECT create_hypertable('{TABLE}', 'ts', chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE)",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_key_ts ON {TABLE} (tag_key, ts DESC)",
        f"ALTER TABLE {TABLE} SET (timescaledb.compress, timescaledb.compress_segmentby = 'tag_key', "
        "timescaledb.compress_orderby = 'ts DESC')",
        f"SELECT add_compression_policy('{TABLE}', compress_after => INTERVAL '{compress_days} days', "
        "if_not_exists => TRUE)",
        f"SELECT add_retention_policy('{TABLE}', drop_after => INTERVAL '{retention_days} days', "
        "if_not_exists => TRUE)",
    ]
    refresh = {"1m": ("2 hours", "1 minute", "1 minute"), "1h": ("3 days", "1 hour", "30 minutes")}
    for suffix, width, _seconds in CAGGS:
        view = f"{TABLE}_{suffix}"
        start, end, every = refresh[suffix]
        statements += [
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view} "
            "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS "
            f"SELECT tag_key, time_bucket(INTERVAL '{width}', ts) AS bucket, min(value) AS vmin, avg(value) AS vavg, "
            f"max(value) AS vmax, count(value) AS n FROM {TABLE} GROUP BY tag_key, bucket WITH NO DATA",
            f"SELECT add_continuous_aggregate_policy('{view}', start_offset => INTERVAL '{start}', "
            f"end_offset => INTERVAL '{end}', schedule_interval => INTERVAL '{every}', if_not_exists => TRUE)",
        ]
    return statements


def drop_schema(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if backend(connection) == "timescale":
                for suffix, _w, _s in CAGGS:  # continuous aggregates are dropped as materialized views
                    cursor.execute(f"DROP MATERIALIZED VIEW IF EXISTS {TABLE}_{suffix} CASCADE")
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE} CASCADE")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


# -- partitions and retention (plain PostgreSQL) ---------------------------------------------------------------------
def partitions(connection=None) -> list[str]:
    """Names of the daily partitions (sorted)."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s", [TABLE])
        return sorted(name for (name,) in cursor.fetchall() if PARTITION_RE.match(name))


def ensure_partitions(connection=None, days_ahead: int | None = None, now: datetime | None = None,
                      days_behind: int = 1) -> list[str]:
    """Create the daily partitions from ``days_behind`` days ago to ``days_ahead`` days ahead. Returns the new ones.

    A partition is created only if no rows of its day sit in the DEFAULT partition (PostgreSQL would refuse);
    such a day stays in the default partition until retention removes it.
    """
    connection = connection or default_connection
    if connection.vendor != "postgresql" or backend(connection) != "postgres":
        return []
    days_ahead = int(_setting("SCADA_PARTITIONS_AHEAD_DAYS", 7) if days_ahead is None else days_ahead)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    existing = set(partitions(connection))
    created = []
    for offset in range(-days_behind, days_ahead + 1):
        day = today + timedelta(days=offset)
        name = f"{TABLE}_p{day:%Y%m%d}"
        if name in existing:
            continue
        lower, upper = f"{day.isoformat()} 00:00:00+00", f"{(day + timedelta(days=1)).isoformat()} 00:00:00+00"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {TABLE}_default WHERE ts >= %s AND ts < %s LIMIT 1", [lower, upper])
            if cursor.fetchone():
                log.warning("historian: rows of %s are in the default partition; partition not created", day)
                continue
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} "
                           f"FOR VALUES FROM ('{lower}') TO ('{upper}')")
        created.append(name)
    return created


def apply_retention(connection=None, days: int | None = None, now: datetime | None = None) -> list[str]:
    """Drop what is older than the retention: whole daily partitions (PostgreSQL) or rows (SQLite, default
    partition). TimescaleDB does this itself (retention policy). Returns the dropped partition names."""
    connection = connection or default_connection
    days = int(_setting("SCADA_RETENTION_DAYS", 365) if days is None else days)
    cutoff = (now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=days)
    kind = backend(connection)
    if kind == "timescale":
        return []
    if kind == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE ts < %s", [_p(connection, cutoff)])
        return []
    dropped = []
    for name in partitions(connection):
        day = datetime.strptime(PARTITION_RE.match(name).group(1), "%Y%m%d").replace(tzinfo=UTC)
        if day + timedelta(days=1) <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            dropped.append(name)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}_default WHERE ts < %s", [cutoff])
    return dropped


def maintain(connection=None) -> dict:
    """Partitions ahead + retention; the gateway runs it at start and every hour."""
    connection = connection or default_connection
    return {"created": ensure_partitions(connection), "dropped": apply_retention(connection)}


# -- writing ---------------------------------------------------------------------------------------------------------
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_ROW = struct.Struct(">hiqiiidih")  # 4 fields: ts (int8 us since 2000), tag_key (int4), value (float8), quality (int2)
_ROW_NULL = struct.Struct(">hiqiiiih")  # same with a NULL value (length -1)
COPY_SQL = f"COPY {TABLE} (ts, tag_key, value, quality) FROM STDIN (FORMAT BINARY)"


def pack_copy(rows) -> memoryview:
    """The PostgreSQL binary COPY stream of ``rows`` ((ts_epoch_s, tag_key, value|None, quality), ...).

    Packed into one preallocated buffer (40 bytes a row, 32 with a NULL value): about 3x faster than psycopg's
    per-value adaptation in write_row, which matters because the gateway is one Python process.
    """
    pack_into, pack_null_into = _ROW.pack_into, _ROW_NULL.pack_into
    buf = bytearray(len(_COPY_HEADER) + _ROW.size * len(rows) + len(_COPY_TRAILER))
    buf[:len(_COPY_HEADER)] = _COPY_HEADER
    offset = len(_COPY_HEADER)
    row_size, null_size, epoch = _ROW.size, _ROW_NULL.size, PG_EPOCH
    for ts, key, value, quality in rows:
        micros = int((ts - epoch) * 1_000_000 + 0.5)
        if value is None:
            pack_null_into(buf, offset, 4, 8, micros, 4, key, -1, 2, quality)
            offset += null_size
        else:
            pack_into(buf, offset, 4, 8, micros, 4, key, 8, value, 2, quality)
            offset += row_size
    buf[offset:offset + 2] = _COPY_TRAILER
    return memoryview(buf)[:offset + 2]


def write_rows(rows, connection=None) -> int:
    """Insert historian rows in one round trip (binary COPY on PostgreSQL, executemany on SQLite). Returns the count."""
    if not rows:
        return 0
    connection = connection or default_connection
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        data = pack_copy(rows)
        with raw.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
            copy.write(data)
        if not raw.autocommit and connection.get_autocommit():
            raw.commit()
        return len(rows)
    params = [(datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), key, value, quality)
              for ts, key, value, quality in rows]
    sql = f"INSERT INTO {TABLE} (ts, tag_key, value, quality) VALUES (%s, %s, %s, %s)"
    connection.ensure_connection()
    with connection.cursor() as cursor:
        if connection.get_autocommit():  # one transaction for the batch, not one per row
            cursor.execute("BEGIN IMMEDIATE")
            try:
                cursor.executemany(sql, params)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        else:
            cursor.executemany(sql, params)
    return len(rows)


# -- reading ---------------------------------------------------------------------------------------------------------
def _p(connection, value: datetime):
    """A timestamp parameter: aware datetime for PostgreSQL, Django's naive-UTC text for SQLite."""
    if connection.vendor == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _ts(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def raw_rows(tag_key: int, start: datetime, end: datetime, limit: int | None = None, connection=None) -> list[tuple]:
    """(ts, value, quality) of one tag in [start, end), oldest first."""
    connection = connection or default_connection
    sql = f"SELECT ts, value, quality FROM {TABLE} WHERE tag_key = %s AND ts >= %s AND ts < %s ORDER BY ts"
    if limit:
        sql += f" LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [tag_key, _p(connection, start), _p(connection, end)])
        return [(_ts(ts), value, quality) for ts, value, quality in cursor.fetchall()]


def history(tag_key: int, start: datetime, end: datetime, max_points: int, connection=None) -> dict:
    """At most ``max_points`` points of one tag over [start, end).

    When the raw rows fit, they are returned as they are (``resolution: "raw"``). Otherwise the range is cut into
    ``max_points`` equal buckets and each non-empty bucket gives its start time, min, avg, max and count of values
    (``resolution: "<seconds>s"``). On TimescaleDB, buckets of at least an hour (or a minute) are computed from the
    continuous aggregate instead of the raw table.
    """
    connection = connection or default_connection
    max_points = max(1, int(max_points))
    rows = raw_rows(tag_key, start, end, limit=max_points + 1, connection=connection)
    if len(rows) <= max_points:
        return {"resolution": "raw", "bucket_seconds": 0, "points": [
            {"ts": ts.isoformat(), "value": value, "quality": quality} for ts, value, quality in rows]}
    span = (end - start).total_seconds()
    width = max(span / max_points, 1e-6)
    source = TABLE
    if backend(connection) == "timescale":
        for suffix, _w, seconds in reversed(CAGGS):
            if width >= seconds:
                # widen the bucket to a whole number of aggregate buckets
                width = max(seconds, (width // seconds) * seconds)
                source = f"{TABLE}_{suffix}"
                break
    points = _bucketed(connection, source, tag_key, start, end, width)
    return {"resolution": f"{width:g}s", "bucket_seconds": width, "points": points}


def _bucketed(connection, source: str, tag_key: int, start: datetime, end: datetime, width: float) -> list[dict]:
    start_epoch = start.timestamp()
    if connection.vendor == "sqlite":
        epoch = "(CAST(strftime('%%s', ts) AS INTEGER) + COALESCE(CAST(substr(ts, 20) AS REAL), 0.0))"
        value_cols = "min(value), avg(value), max(value), count(value)"
    elif source == TABLE:
        epoch = "extract(epoch from ts)"
        value_cols = "min(value), avg(value), max(value), count(value)"
    else:  # continuous aggregate rows: combine per-bucket aggregates (avg weighted by count)
        epoch = "extract(epoch from bucket)"
        value_cols = "min(vmin), sum(vavg * n) / nullif(sum(n), 0), max(vmax), sum(n)"
    time_col = "ts" if source == TABLE else "bucket"
    # the epsilon keeps a row exactly on a bucket edge in the bucket it starts (float division)
    bucket = f"CAST((({epoch} - %s) / %s) + 1e-9 AS integer)" if connection.vendor == "sqlite" else \
        f"CAST(floor(({epoch} - %s) / %s + 1e-9) AS integer)"
    sql = (f"SELECT {bucket} AS b, {value_cols} FROM {source} "
           f"WHERE tag_key = %s AND {time_col} >= %s AND {time_col} < %s GROUP BY b ORDER BY b")
    with connection.cursor() as cursor:
        cursor.execute(sql, [start_epoch, width, tag_key, _p(connection, start), _p(connection, end)])
        result = []
        for bucket, vmin, vavg, vmax, count in cursor.fetchall():
            ts = datetime.fromtimestamp(start_epoch + int(bucket) * width, UTC)
            result.append({"ts": ts.isoformat(), "min": vmin, "avg": vavg, "max": vmax, "count": int(count)})
        return result


def rows_after(watermark: datetime | None, limit: int = 10_000, connection=None,
               until: datetime | None = None) -> list[tuple[datetime, int, float | None, int]]:
    """Historian rows with ts > ``watermark`` (all rows if None), oldest first, at most ``limit``.

    For the sync forwarder (issue 8): forward the batch, then store the last row's ts as the new watermark. Rows
    sharing the watermark's exact timestamp are returned with the next batch only if they were not in this one, so a
    forwarder should not cut a batch in the middle of one timestamp: pass ``until`` = now - a few seconds to leave
    rows still being written for the next round.
    """
    connection = connection or default_connection
    clauses, params = [], []
    if watermark is not None:
        clauses.append("ts > %s")
        params.append(_p(connection, watermark))
    if until is not None:
        clauses.append("ts <= %s")
        params.append(_p(connection, until))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ts, tag_key, value, quality FROM {TABLE} {where} ORDER BY ts, tag_key LIMIT %s",
                       [*params, int(limit)])
        return [(_ts(ts), key, value, quality) for ts, key, value, quality in cursor.fetchall()]


# -- sync (issue 8): the "scada.samples" telemetry stream ------------------------------------------------------------
def read_after(after: str | None, limit: int = 5000, connection=None):
    """Edge side of the sync telemetry stream: rows strictly after the watermark, in (ts, tag_key) order.

    The watermark is ``"<ts iso>|<tag_key>"`` of the last row sent (None at first). Rows are JSON-ready
    ``[ts iso, tag name, value, quality]``: the tag *name* travels (keys are local to each box). Returns
    ``(rows, watermark)``. Rows younger than 2 seconds are left for the next round (the writer may still be
    committing that instant).
    """
    from scada.models import Tag

    connection = connection or default_connection
    clauses, params = ["ts <= %s"], [_p(connection, datetime.now(UTC) - timedelta(seconds=2))]
    if after:
        mark_ts, _, mark_key = after.rpartition("|")
        mark = _p(connection, _ts(mark_ts))
        clauses.append("(ts > %s OR (ts = %s AND tag_key > %s))")
        params += [mark, mark, int(mark_key)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ts, tag_key, value, quality FROM {TABLE} WHERE {' AND '.join(clauses)} "
                       f"ORDER BY ts, tag_key LIMIT %s", [*params, int(limit)])
        fetched = cursor.fetchall()
    if not fetched:
        return [], after
    names = dict(Tag.objects.filter(key__in={r[1] for r in fetched}).values_list("key", "name"))
    rows = [[_ts(ts).isoformat(), names.get(key, f"#{key}"), value, quality] for ts, key, value, quality in fetched]
    last_ts, last_key = fetched[-1][0], fetched[-1][1]
    return rows, f"{_ts(last_ts).isoformat()}|{last_key}"


def store_remote(edge_id: str, rows, connection=None) -> int:
    """Hub side of the stream: store forwarded rows idempotently (a re-sent chunk replaces the same rows).

    Rows of tags unknown here are skipped. Returns the number of rows stored.
    """
    from scada.models import Tag

    connection = connection or default_connection
    keys = dict(Tag.objects.filter(name__in={r[1] for r in rows}).values_list("name", "key"))
    out = [(_ts(ts).timestamp(), keys[name], value, int(quality)) for ts, name, value, quality in rows if name in keys]
    if not out:
        return 0
    from django.db import transaction

    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One statement for the chunk: the (tag, time) pairs travel as two array literals, joined on the
                # (tag_key, ts) index (5,000 single-row DELETEs were most of the hub's time per chunk).
                times = ",".join(f'"{datetime.fromtimestamp(ts, UTC).isoformat()}"' for ts, _k, _v, _q in out)
                cursor.execute(
                    f"DELETE FROM {TABLE} h USING unnest(%s::int[], %s::timestamptz[]) AS u(k, t) "  # noqa: S608
                    "WHERE h.tag_key = u.k AND h.ts = u.t",
                    ["{" + ",".join(str(key) for _ts, key, _v, _q in out) + "}", "{" + times + "}"],
                )
            else:
                cursor.executemany(f"DELETE FROM {TABLE} WHERE tag_key = %s AND ts = %s",  # noqa: S608
                                   [(key, _p(connection, datetime.fromtimestamp(ts, UTC))) for ts, key, _v, _q in out])
        write_rows(out, connection)
    return len(out)


# -- deduplication of redelivered input (MQTT QoS 1) ------------------------------------------------------------------
_PG_EPOCH_DT = datetime(2000, 1, 1, tzinfo=UTC)


def micros(ts: float) -> int:
    """A sample time as the integer microseconds since 2000-01-01 that ``pack_copy`` stores on PostgreSQL."""
    return int((ts - PG_EPOCH) * 1_000_000 + 0.5)


def existing(pairs, connection=None) -> set[tuple[int, int]]:
    """Which of ``pairs`` ((tag_key, ts_epoch_s), ...) already have a row: a set of (tag_key, micros(ts)).

    For input that may be a redelivery (an MQTT message with the DUP flag): one indexed query per call on PostgreSQL
    (the pairs are joined as two arrays on (tag_key, ts)), a range query per tag on SQLite (compared to 1 us).
    """
    pairs = list(pairs)
    if not pairs:
        return set()
    connection = connection or default_connection
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        keys = [int(k) for k, _ts in pairs]
        times = [_PG_EPOCH_DT + timedelta(microseconds=micros(ts)) for _k, ts in pairs]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT h.tag_key, h.ts FROM {TABLE} h JOIN unnest(%s::integer[], %s::timestamptz[]) AS u(k, t) "
                "ON h.tag_key = u.k AND h.ts = u.t", [keys, times])
            return {(key, (ts - _PG_EPOCH_DT) // timedelta(microseconds=1)) for key, ts in cursor.fetchall()}
    wanted: dict[int, set[int]] = {}
    for key, ts in pairs:
        wanted.setdefault(int(key), set()).add(micros(ts))
    found = set()
    with connection.cursor() as cursor:
        for key, stamps in wanted.items():
            lo = datetime.fromtimestamp(PG_EPOCH + (min(stamps) - 2) / 1e6, UTC)
            hi = datetime.fromtimestamp(PG_EPOCH + (max(stamps) + 2) / 1e6, UTC)
            cursor.execute(f"SELECT ts FROM {TABLE} WHERE tag_key = %s AND ts >= %s AND ts <= %s",
                           [key, _p(connection, lo), _p(connection, hi)])
            for (ts,) in cursor.fetchall():
                m = (_ts(ts) - _PG_EPOCH_DT) // timedelta(microseconds=1)
                for candidate in (m - 1, m, m + 1):
                    if candidate in stamps:
                        found.add((key, candidate))
    return found
