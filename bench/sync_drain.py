"""Sync drain throughput: a backlog of outbox events on an edge database drained to a hub on loopback, and one day
of historian telemetry at the demo site's rate.

    .venv/bin/python bench/sync_drain.py [--events 1000000] [--batch 5000] [--forwarders 1] [--no-telemetry]
                                         [--profile-batches 10]

Two databases in one PostgreSQL cluster (DATABASE_URL's server if it is postgres://, else a throw-away server started
like the tests do: fsync and synchronous_commit off): the edge's, migrated, and the hub's, copied from it. The
backlog is generated in SQL (``--mix rename``, the default: half well renames spread over 5,000 wells, half audit rows;
``--mix site``: half audit rows, a quarter alarm-journal entries, a quarter well status changes; event, audit and
journal ids time-ordered UUIDs as the product makes them); the hub is ``daphne`` with
EDGE_ROLE=hub; the forwarders are ``manage.py run_sync --once`` processes.

Prints, in one run:
- the baselines: a raw binary COPY of the same outbox rows from the edge into a table of the same shape (with its
  indexes) on the hub, and a raw COPY of the backlog's audit rows into the hub's audit table (with its indexes): what
  PostgreSQL on this box does with no sync logic at all;
- the drain: events/s from the first request to an empty outbox, its ratio to both baselines, then zero loss and
  zero duplicates counted at the hub (every event received once, every event delivered at the edge);
- the profile (``--profile-batches K``, default 10, 0 = none): where a batch's time goes, per SQL statement, measured
  on K batches of the same events: the hub's ``apply_events`` run in a separate process against a fresh copy of the
  hub database (every statement timed through Django's execute_wrapper; Python = the rest), and the edge's claim and
  "delivered" UPDATE on the baseline's copy of the outbox (all rows pending there);
- telemetry: the demo site's recorded rate (scada/demo.py tags polled every 1 s, the simulator's signal models
  through the recorder's deadband / max-interval filter), one day of it written to the edge historian, and the time
  to forward it to the hub through the ``scada.samples`` stream, with points/s and the rows found at the hub.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GENERATE = """
WITH f AS (
  INSERT INTO wells_field (id, created_at, updated_at, code, name, country, operator, time_zone)
  VALUES ('00000000-0000-4000-8000-00000000f001', now(), now(), 'FBENCH', 'Bench field', '', '', 'UTC')
  RETURNING id
)
INSERT INTO wells_site (id, created_at, updated_at, field_id, code, name, kind)
SELECT '00000000-0000-4000-8000-00000000c001', now(), now(), id, 'SBENCH', 'Bench site', 'pad' FROM f;
"""

# Ids as the product makes them (apps/core/ids.py uuid7: time-ordered, version 7): the outbox's event ids and the
# audit rows' ids, written as if the backlog had been made over time at 50 events per millisecond.
UUID7 = """(lpad(to_hex(t0.ms + i / 50), 12, '0') || '7' || lpad(to_hex((i %% 50) * 81), 3, '0')
           || to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid"""

AUDIT_PAYLOAD = """jsonb_build_object(
              'id', a.id, 'at', now(), 'actor_name', 'bench', 'channel', 'system', 'ip', NULL, 'request_id', '',
              'action', 'update', 'object_type', 'wells.well', 'object_id', w.id, 'object_repr', 'W' || (i %% 10000),
              'changes', jsonb_build_object('name', jsonb_build_array(NULL, 'v' || i)), 'message', '',
              'field_code', 'FBENCH', 'site_code', 'SBENCH')"""

# Two backlogs (--mix). "rename" (the default, the worst case for the hub): every other event an audit row, the others
# updates of 5,000 wells that rename the well each time (a non-HOT update rewriting all nine of its indexes).
# "site": what an outage at a site leaves (every business change comes with its audit row, alarm transitions are
# journalled): half audit rows, a quarter alarm-journal entries, a quarter well status changes (2,500 wells, name
# and UWI kept).
BACKLOG_SELECT = {
    "rename": """
       CASE WHEN i %% 2 = 0 THEN 'core.auditevent' ELSE 'wells.well' END,
       CASE WHEN i %% 2 = 0 THEN a.id::text ELSE w.id::text END,
       'upsert',
       CASE WHEN i %% 2 = 0 THEN """ + AUDIT_PAYLOAD + """
            ELSE jsonb_build_object(
              'id', w.id, 'site_id', '00000000-0000-4000-8000-00000000c001', 'name', 'BW' || (i %% 10000) || '~' || i,
              'uwi', 'BUWI-' || (i %% 10000), 'created_at', now(), 'updated_at', now())
       END,""",
    "site": """
       CASE i %% 4 WHEN 1 THEN 'alarms.alarmjournal' WHEN 3 THEN 'wells.well' ELSE 'core.auditevent' END,
       CASE WHEN i %% 4 = 3 THEN w.id::text ELSE a.id::text END,
       'upsert',
       CASE i %% 4 WHEN 1 THEN jsonb_build_object(
              'id', a.id, 'site_id', '00000000-0000-4000-8000-00000000c001', 'tag_name', 'W' || (i %% 10000) || '.THP',
              'kind', 'HH', 'at', now(), 'event', (ARRAY['raise', 'ack', 'clear'])[1 + (i / 4) %% 3],
              'from_state', 'NORMAL', 'to_state', 'UNACKED', 'value', 91.5, 'occurrence', i, 'actor_name', 'system',
              'comment', '')
            WHEN 3 THEN jsonb_build_object(
              'id', w.id, 'site_id', '00000000-0000-4000-8000-00000000c001', 'name', 'BW' || (i %% 10000),
              'uwi', 'BUWI-' || (i %% 10000), 'status', (ARRAY['producing', 'shut_in'])[1 + (i / 10000) %% 2],
              'created_at', now(), 'updated_at', now())
            ELSE """ + AUDIT_PAYLOAD + """
       END,""",
}


def backlog_sql(mix: str) -> str:
    return """
INSERT INTO sync_outboxevent (event_id, edge_id, aggregate_type, aggregate_id, op, payload, created_at, state,
                              attempts, last_error)
SELECT """ + UUID7 + """, %(edge)s,""" + BACKLOG_SELECT[mix] + """
       now(), 'pending', 0, ''
FROM generate_series(1, %(n)s) AS i
CROSS JOIN (SELECT floor(extract(epoch FROM now()) * 1000)::bigint - %(n)s / 50 AS ms) t0
CROSS JOIN LATERAL (SELECT """ + UUID7 + """ AS id WHERE i = i) a
CROSS JOIN LATERAL (SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i %% 10000), 12, '0'))::uuid AS id) w;
"""


SEED_TAGS = """
from apps.wells.models import Field, Site
from scada.demo import seed_scada
import sys
f, _ = Field.objects.get_or_create(code="NORTH", defaults={"name": "North"})
for code in ("PAD-A", "PAD-B"):
    Site.objects.get_or_create(code=code, defaults={"field": f, "name": code, "kind": "pad"})
seed_scada(sys.stdout)
"""

AUDIT_COLUMNS = ("id", "at", "actor_name", "channel", "ip", "request_id", "action", "object_type", "object_id",
                 "object_repr", "changes", "message", "field_code", "site_code")


def demo_telemetry_day(start_epoch: float, seconds: int = 86_400, seed: int = 8):
    """One day of the demo site's historian rows: scada/demo.py's tags polled every second, values from the
    simulator's signal models (setpoints stay put), recorded through the gateway's Recorder filter (0.5 % of span
    deadband, 300 s max interval, quality Good throughout). Returns (rows, number of tags)."""
    import random

    from scada.demo import WELLS, _tags_for
    from scada.runtime.recorder import Recorder
    from scada.runtime.samples import Sample
    from scada.simulator import signal_for

    random.seed(seed)
    tags = []
    per_pad = {"PAD-A": 0, "PAD-B": 0}
    for well, pad in WELLS.items():
        for suffix, _d, _r, _a, _t, _s, (low, high), _u, writable in _tags_for(well, per_pad[pad]):
            tags.append((f"{well}.{suffix}", low, high, writable))
        per_pad[pad] += 1
    tags += [("PAD-A.TANK_LVL", 0.0, 100.0, False), ("PAD-B.TANK_LVL", 0.0, 100.0, False)]
    configs = []
    for key, (name, low, high, writable) in enumerate(tags, start=1):
        deadband = 0.005 * (high - low) if low is not None else 0.0
        configs.append(SimpleNamespace(key=key, name=name, eng_low=low, eng_high=high, deadband=deadband,
                                       max_interval_s=300.0, writable=writable))
    recorder = Recorder()
    recorder.configure(configs)
    signals = {c.key: signal_for(c) for c in configs}
    rows = []
    for t in range(seconds):
        ts = start_epoch + t
        samples = [Sample(c.key, ts, signals[c.key].base if c.writable else signals[c.key].step(t, 1.0), 0)
                   for c in configs]
        rows += recorder.filter(samples)
    return rows, configs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--forwarders", type=int, default=1)
    parser.add_argument("--pipeline", type=int, default=1, help="1: pipelined (SYNC_PIPELINE_DEPTH batches in "
                        "flight per forwarder); 0: one batch at a time")
    parser.add_argument("--depth", type=int, default=None, help="SYNC_PIPELINE_DEPTH (default: the setting's)")
    parser.add_argument("--no-telemetry", action="store_true")
    parser.add_argument("--mix", choices=sorted(BACKLOG_SELECT), default="rename",
                        help="the backlog: rename (half well renames, half audit rows: the hub's worst case) or site "
                             "(half audit rows, a quarter alarm-journal entries, a quarter well status changes)")
    parser.add_argument("--pg-memory", default=None, metavar="SIZE",
                        help="size the throw-away PostgreSQL's memory as the deployment's TimescaleDB image "
                             "(timescaledb-tune) does for a box with this much RAM, e.g. 8GB; default: the tests' "
                             "128MB shared_buffers")
    parser.add_argument("--profile-batches", type=int, default=10, help="batches profiled per statement (0: none)")
    parser.add_argument("--profile-worker", nargs=3, metavar=("EDGE_URL", "SCRATCH_URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_worker:
        edge, scratch, n = args.profile_worker
        return profile_worker(edge, scratch, int(n), args.batch)

    import dj_database_url
    import psycopg

    from tests.servers import PostgresServer
    from tests.sync.procs import Hub, base_env, forwarder_env

    server = None
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        server = PostgresServer()
        if args.pg_memory:
            server.config = {**server.config, **tuned_memory(args.pg_memory)}
        server.start()
        url = server.url()
    cfg = dj_database_url.parse(url)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    edge_db, hub_db, scratch_db = "sync_bench_edge", "sync_bench_hub", "sync_bench_scratch"
    profile_db = "sync_bench_profile"
    base = url.rsplit("/", 1)[0]
    edge_url, hub_url, scratch_url = f"{base}/{edge_db}", f"{base}/{hub_db}", f"{base}/{scratch_db}"
    profile_url = f"{base}/{profile_db}"
    pg = lambda u: u.replace("postgres://", "postgresql://", 1)  # noqa: E731
    hub = None
    try:
        with psycopg.connect(pg(admin), autocommit=True) as conn:
            for name in (edge_db, hub_db, scratch_db, profile_db):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{edge_db}"')
            shown = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                     for name in ("shared_buffers", "max_wal_size", "fsync", "synchronous_commit")}
        print("PostgreSQL: " + ", ".join(f"{k} {v}" for k, v in shown.items()), flush=True)
        print(f"migrating the edge database ({cfg['HOST']}:{cfg['PORT']}) ...", flush=True)
        edge_env = base_env(DATABASE_URL=edge_url, EDGE_ROLE="edge")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True, env=edge_env)
        if not args.no_telemetry:  # the demo tags on both boxes (the hub database is a copy)
            subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED_TAGS], cwd=ROOT, check=True,
                           env=edge_env, stdout=subprocess.DEVNULL)
        with psycopg.connect(pg(admin), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{hub_db}" TEMPLATE "{edge_db}"')
            conn.execute(f'CREATE DATABASE "{scratch_db}" TEMPLATE "{edge_db}"')
            conn.execute(f'CREATE DATABASE "{profile_db}" TEMPLATE "{edge_db}"')
        t0 = time.perf_counter()
        with psycopg.connect(pg(edge_url), autocommit=True) as conn:
            conn.execute(GENERATE)
            conn.execute(backlog_sql(args.mix), {"n": args.events, "edge": "edge-bench"})
            conn.execute("ANALYZE sync_outboxevent")
            total = conn.execute("SELECT count(*) FROM sync_outboxevent WHERE state = 'pending'").fetchone()[0]
            size = conn.execute("SELECT pg_total_relation_size('sync_outboxevent')").fetchone()[0]
        print(f"backlog: {total:,} events generated in {time.perf_counter() - t0:.1f} s "
              f"(outbox {size / 1e6:.0f} MB, {size / total:.0f} bytes/event with indexes)", flush=True)
        for u in (hub_url, profile_url):
            with psycopg.connect(pg(u), autocommit=True) as conn:  # the hub has the site already (master data)
                conn.execute(GENERATE)
        with psycopg.connect(pg(hub_url)) as conn:
            audit_indexes = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'core_auditevent'").fetchone()[0]

        # -- baselines: raw COPY of the same rows, no sync logic -------------------------------------------------
        copy_rate, audit_rate = copy_baselines(pg(edge_url), pg(scratch_url), total, audit_indexes)

        # -- the drain -------------------------------------------------------------------------------------------
        hub = Hub(hub_url).start()
        token = hub.issue_token("edge-bench")
        env = forwarder_env(edge_url, hub.url, token, "edge-bench", SYNC_BATCH_SIZE=args.batch,
                            SYNC_TIMEOUT_SECONDS=120, SYNC_PULL_ENABLED=0, SYNC_PIPELINE=args.pipeline,
                            **({"SYNC_PIPELINE_DEPTH": args.depth} if args.depth else {}))
        postmaster = postmaster_pid(pg(edge_url))
        cpu0 = cpu_snapshot(hub.proc.pid, postmaster)
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "manage.py", "run_sync", "--once"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(args.forwarders)]
        outputs = [p.communicate() for p in procs]
        elapsed = time.perf_counter() - t0
        cpu1 = cpu_snapshot(hub.proc.pid, postmaster)
        for (out, err), p in zip(outputs, procs, strict=True):
            print(f"forwarder exit={p.returncode}: {out.strip()} {err.strip()[-300:]}")

        with psycopg.connect(pg(edge_url), autocommit=True) as conn:
            left = conn.execute("SELECT count(*) FROM sync_outboxevent WHERE state <> 'delivered'").fetchone()[0]
        rows = hub.query("SELECT count(*), count(DISTINCT event_id) FROM sync_receivedevent WHERE edge_id = %s",
                         ("edge-bench",))[0]
        audit = hub.query("SELECT count(*) FROM core_auditevent WHERE actor_name = 'bench'")[0][0]
        wells = hub.query("SELECT count(*) FROM wells_well WHERE uwi LIKE 'BUWI-%%'")[0][0]
        journal = hub.query("SELECT count(*) FROM alarms_alarmjournal")[0][0]
        inner = max(float(out.split("seconds=")[1].split()[0]) for out, _ in outputs if "seconds=" in out)
        rate = total / inner
        print(f"drained {total:,} events in {inner:.1f} s: {rate:,.0f} events/s "
              f"(batch {args.batch}, {args.forwarders} forwarder(s), pipeline "
              f"{'depth ' + str(args.depth or 'default') if args.pipeline else 'off'}; "
              f"{elapsed:.1f} s and {total / elapsed:,.0f} events/s counting the forwarder processes' start-up)")
        print(f"ratios: drain / raw outbox COPY = {rate / copy_rate:.2f}, drain / raw audit-row COPY = "
              f"{rate / audit_rate:.2f}; target 20,000 events/s: {'met' if rate >= 20_000 else 'NOT met'}")
        print(f"hub: {rows[0]:,} received, {rows[1]:,} distinct, duplicates {rows[0] - rows[1]}, "
              f"lost {total - rows[1]}, not delivered at the edge {left}; {audit:,} audit rows, "
              f"{journal:,} alarm-journal rows, {wells:,} wells")
        ok = rows[0] == rows[1] == total and left == 0
        print("ZERO LOSS, ZERO DUPLICATES" if ok else "MISMATCH", flush=True)
        print_cpu(cpu0, cpu1, total, elapsed)

        if args.profile_batches:
            worker_env = base_env(DATABASE_URL=profile_url, EDGE_ROLE="hub", DJANGO_SETTINGS_MODULE="erp.settings")
            subprocess.run([sys.executable, __file__, "--batch", str(args.batch), "--profile-worker", pg(edge_url),
                            pg(scratch_url), str(args.profile_batches)], cwd=ROOT, check=True, env=worker_env)
        if not args.no_telemetry:
            ok = telemetry_day(edge_url, hub, env) and ok
        return 0 if ok else 1
    finally:
        if hub is not None:
            hub.stop()
        if server is not None:
            server.stop()


def tuned_memory(size: str) -> dict:
    """PostgreSQL's memory settings for a box with ``size`` of RAM as timescaledb-tune sets them when the deployment's
    TimescaleDB container initialises (docker-compose.yml: TS_TUNE_MEMORY): shared_buffers a quarter, the planner's
    cache three quarters, 1/16 for maintenance (at most 2 GB), WAL buffers 16 MB, and checkpoints spread out."""
    units = {"MB": 1, "GB": 1024}
    mb = int(float(size[:-2]) * units[size[-2:].upper()])
    return {"shared_buffers": f"{mb // 4}MB", "effective_cache_size": f"{mb * 3 // 4}MB",
            "maintenance_work_mem": f"{min(mb // 16, 2048)}MB", "wal_buffers": "16MB",
            "checkpoint_completion_target": "0.9", "min_wal_size": "512MB", "max_wal_size": "1GB"}


def postmaster_pid(dsn: str) -> int | None:
    """The PostgreSQL server's pid when it runs on this machine (its backends' CPU is summed on it as they exit)."""
    import psycopg

    try:
        with psycopg.connect(dsn) as conn:
            data = conn.execute("SHOW data_directory").fetchone()[0]
        pid = int(Path(data, "postmaster.pid").read_text().split()[0])
        Path(f"/proc/{pid}/stat").read_text()
        return pid
    except (OSError, ValueError, IndexError, psycopg.Error):
        return None  # another machine, or no right to read its data directory


def _proc_cpu(pid: int | None, children: bool) -> float:
    """CPU seconds of a process (utime + stime), plus those of its exited children when ``children``."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(hub_pid: int, postmaster: int | None) -> dict:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the forwarders, once they have exited
    with open("/proc/stat") as handle:
        total = [int(x) for x in handle.readline().split()[1:]]
    return {"hub": _proc_cpu(hub_pid, False), "forwarders": usage.ru_utime + usage.ru_stime,
            "postgres": _proc_cpu(postmaster, True), "busy": (sum(total) - total[3] - total[4]) / os.sysconf(
                "SC_CLK_TCK"), "all": sum(total) / os.sysconf("SC_CLK_TCK")}


def print_cpu(before: dict, after: dict, events: int, elapsed: float) -> None:
    """Where the drain's CPU went, per event: the hub process, the forwarder processes, the PostgreSQL server (both
    databases: backends are counted as they exit, so a connection still open is missing), and the whole machine."""
    d = {k: after[k] - before[k] for k in before}
    cores = os.cpu_count() or 1
    parts = ", ".join(f"{name} {1e6 * d[name] / events:.0f}" for name in ("hub", "forwarders", "postgres"))
    print(f"CPU per event (µs): {parts}; whole machine {1e6 * d['busy'] / events:.0f} µs "
          f"({100 * d['busy'] / d['all']:.0f} % of {cores} cores busy over {elapsed:.1f} s); at full use of "
          f"{cores} cores this CPU cost allows {events * cores / max(d['busy'], 1e-9):,.0f} "
          f"events/s at most")


def copy_baselines(edge_dsn: str, scratch_dsn: str, total: int, audit_indexes: int) -> tuple[float, float]:
    """Raw binary COPY of the backlog into a table of the outbox's shape (with its indexes) in another database,
    and of the audit events' rows into the audit table: the floor any sync design works against on this box."""
    import psycopg

    with psycopg.connect(edge_dsn) as src, psycopg.connect(scratch_dsn) as dst:
        dst.execute("CREATE TABLE bench_outbox_copy (LIKE sync_outboxevent INCLUDING ALL)")
        dst.commit()
        t0 = time.perf_counter()
        with src.cursor().copy("COPY sync_outboxevent TO STDOUT (FORMAT BINARY)") as out, \
                dst.cursor().copy("COPY bench_outbox_copy FROM STDIN (FORMAT BINARY)") as into:
            for chunk in out:
                into.write(chunk)
        dst.commit()
        copy_s = time.perf_counter() - t0
        cols = ", ".join(AUDIT_COLUMNS)
        t0 = time.perf_counter()
        select = (f"COPY (SELECT r.{cols.replace(', ', ', r.')} FROM sync_outboxevent o, "
                  f"jsonb_populate_record(NULL::core_auditevent, o.payload) r "
                  f"WHERE o.aggregate_type = 'core.auditevent' AND o.payload->>'actor_name' = 'bench') "
                  f"TO STDOUT (FORMAT BINARY)")
        with src.cursor().copy(select) as out, \
                dst.cursor().copy(f"COPY core_auditevent ({cols}) FROM STDIN (FORMAT BINARY)") as into:
            for chunk in out:
                into.write(chunk)
        dst.commit()
        audit_s = time.perf_counter() - t0
        audits = dst.execute("SELECT count(*) FROM core_auditevent WHERE actor_name = 'bench'").fetchone()[0]
    copy_rate, audit_rate = total / copy_s, audits / audit_s
    print(f"baseline: raw COPY of the {total:,} outbox rows into a same-shaped table: {copy_s:.1f} s, "
          f"{copy_rate:,.0f} rows/s; raw COPY of the {audits:,} audit rows into the audit table "
          f"({audit_indexes} indexes): {audit_s:.1f} s, "
          f"{audit_rate:,.0f} rows/s", flush=True)
    return copy_rate, audit_rate


def _kind(sql: str) -> str:
    """A statement's label for the profile: verb and table (the values are left out)."""
    words = re.sub(r"\s+", " ", sql.replace('"', "")).strip()
    found = re.match(r"(INSERT INTO|UPDATE|DELETE FROM|SELECT .*? FROM) (\w+)", words)
    if found:
        verb = found.group(1).split()[0]
        extra = " ON CONFLICT DO UPDATE" if "DO UPDATE" in words else ""
        return f"{verb} {found.group(2)}{extra}"
    return re.sub(r" s\d+_x\d+", "", words)[:40]  # savepoint names


def profile_worker(edge_dsn: str, scratch_dsn: str, batches: int, size: int) -> int:
    """(Subprocess, DATABASE_URL = a fresh copy of the hub database.) Apply ``batches`` batches of the backlog with
    services.apply_events, as the push view does (the body decoded by orjson), timing every statement."""
    import django
    import orjson
    import psycopg

    django.setup()
    from django.db import connection

    from apps.sync import services
    from apps.sync.forwarder import CLAIM_SQL

    edge_profile(scratch_dsn, size, batches)
    services.issue_credential("edge-bench")
    select = CLAIM_SQL.replace("FOR UPDATE SKIP LOCKED", "OFFSET %s").replace("state = 'pending'", "true")
    timings: dict[str, list[float]] = {}
    totals = []

    def timer(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.setdefault(_kind(sql), []).append(time.perf_counter() - t0)

    real_receipts = services._record_receipts

    def timed_receipts(*args):  # a COPY: not seen by execute_wrapper
        t0 = time.perf_counter()
        try:
            return real_receipts(*args)
        finally:
            timings.setdefault("COPY sync_receivedevent", []).append(time.perf_counter() - t0)

    services._record_receipts = timed_receipts
    real_bound = services._bound_cursor

    class TimedCursor:  # services._bound_cursor's statements bypass Django's cursor (and execute_wrapper)
        def __init__(self, cursor):
            self.cursor = cursor

        def execute(self, sql, params=None, **kw):
            t0 = time.perf_counter()
            try:
                return self.cursor.execute(sql, params, **kw)
            finally:
                timings.setdefault(_kind(sql), []).append(time.perf_counter() - t0)

        def __getattr__(self, name):
            return getattr(self.cursor, name)

    @contextlib.contextmanager
    def timed_bound():
        with real_bound() as cursor:
            yield TimedCursor(cursor)

    services._bound_cursor = timed_bound
    with psycopg.connect(edge_dsn) as src:
        for b in range(batches):
            rows = src.execute(select, [None, size, b * size]).fetchall()
            body = b"[" + b",".join(r[-1].encode() for r in rows) + b"]"
            t0 = time.perf_counter()
            events = orjson.loads(body)
            with connection.execute_wrapper(timer):
                results = services.apply_events(events, "edge-bench", role="hub")
            totals.append(time.perf_counter() - t0)
            assert all(r["status"] == "accepted" for r in results), results[:3]
    n = len(totals)
    total_ms = 1000 * sum(totals) / n
    sql_ms = 1000 * sum(sum(v) for v in timings.values()) / n
    print(f"profile, hub: apply_events of {n} batches of {size} events: {total_ms:.0f} ms per batch "
          f"({size * 1000 / total_ms:,.0f} events/s for the hub's transaction alone), of which SQL {sql_ms:.0f} ms, "
          f"Python {total_ms - sql_ms:.0f} ms (parse, validate, JSON)")
    for kind, values in sorted(timings.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {1000 * sum(values) / n:7.1f} ms/batch  {len(values) / n:4.1f}x  {kind}")
    return 0


def edge_profile(scratch_dsn: str, size: int, batches: int) -> None:
    """The edge's two statements per batch, on the baseline's copy of the outbox (same shape and indexes, all rows
    pending): the claim (SELECT ... FOR UPDATE SKIP LOCKED writing each event's JSON) and the "delivered" UPDATE."""
    import psycopg

    from apps.sync.forwarder import CLAIM_SQL

    claim = CLAIM_SQL.replace("sync_outboxevent", "bench_outbox_copy")
    claim_s, update_s = [], []
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE bench_outbox_copy")  # statistics, as the edge's own outbox has them
    with psycopg.connect(scratch_dsn) as conn:
        for _ in range(batches):
            t0 = time.perf_counter()
            rows = conn.execute(claim, ["infinity", size]).fetchall()
            t1 = time.perf_counter()
            conn.execute("UPDATE bench_outbox_copy SET state = 'delivered', delivered_at = now() "
                         "WHERE sequence = ANY(string_to_array(%s, ',')::bigint[])",
                         [",".join(str(r[0]) for r in rows)])
            conn.commit()
            claim_s.append(t1 - t0)
            update_s.append(time.perf_counter() - t1)
    print(f"profile, edge: claim {1000 * sum(claim_s) / batches:.0f} ms/batch, mark delivered "
          f"{1000 * sum(update_s) / batches:.0f} ms/batch ({batches} batches of {size})", flush=True)


def telemetry_day(edge_url: str, hub, env: dict) -> bool:
    """One day at the demo rate into the edge historian, then forwarded by ``run_sync --once`` rounds."""
    import django
    import psycopg

    from tests.sync.procs import base_env

    os.environ.update(base_env(DATABASE_URL=edge_url, EDGE_ROLE="edge", DJANGO_SETTINGS_MODULE="erp.settings"))
    django.setup()  # the SCADA modules (simulator, recorder) read their settings
    from scada.historian import COPY_SQL, pack_copy

    edge_dsn = edge_url.replace("postgres://", "postgresql://", 1)
    start = (int(time.time()) // 86_400 - 2) * 86_400  # the day before yesterday, UTC: settled rows
    t0 = time.perf_counter()
    rows, tags = demo_telemetry_day(start)
    per_day = len(rows)
    polled = len(tags) * 86_400
    print(f"telemetry: {len(tags)} demo tags polled every 1 s = {polled:,} samples/day; the recorder keeps "
          f"{per_day:,} rows/day ({per_day / 86_400:.1f} points/s, {100 * per_day / polled:.1f} % of the samples; "
          f"simulated in {time.perf_counter() - t0:.1f} s)", flush=True)
    with psycopg.connect(edge_dsn) as conn:
        keys = dict(conn.execute("SELECT name, key FROM scada_tag").fetchall())
        local = {t.key: keys[t.name] for t in tags}
        data = pack_copy([(ts, local[key], value, quality) for ts, key, value, quality in rows])
        with conn.cursor().copy(COPY_SQL) as copy:
            copy.write(data)
        conn.commit()
    t0 = time.perf_counter()
    rounds, inner = 0, 0.0
    while True:
        rounds += 1
        result = subprocess.run([sys.executable, "manage.py", "run_sync", "--once"], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        found = re.search(r"seconds=([\d.]+)", result.stdout)
        inner += float(found.group(1)) if found else 0.0
        stored = hub.query("SELECT count(*) FROM scada_historian")[0][0]
        if result.returncode != 0 or stored >= per_day or rounds >= 50:
            break
    elapsed = time.perf_counter() - t0
    print(f"telemetry: one day ({per_day:,} points) forwarded in {inner:.1f} s in {rounds} run_sync round(s) "
          f"({per_day / inner:,.0f} points/s; {elapsed:.1f} s with process start-up); hub historian rows "
          f"{stored:,}; exit {result.returncode} {result.stderr.strip()[-300:]}", flush=True)
    ok = stored == per_day
    print("TELEMETRY COMPLETE" if ok else "TELEMETRY MISMATCH", flush=True)
    return ok


if __name__ == "__main__":
    sys.exit(main())
