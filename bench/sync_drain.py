"""Sync drain throughput: a backlog of outbox events on an edge database drained to a hub on loopback.

    .venv/bin/python bench/sync_drain.py [--events 1000000] [--batch 5000] [--forwarders 1]

Two databases in one PostgreSQL cluster (DATABASE_URL's server if it is postgres://, else a throw-away server started
like the tests do): the edge's, migrated, and the hub's, copied from it. The backlog is generated in SQL (half well
updates spread over 10,000 wells, half audit rows); the hub is ``daphne`` with EDGE_ROLE=hub; the forwarders are
``manage.py run_sync --once`` processes (several take batches with SELECT ... FOR UPDATE SKIP LOCKED). Prints the
events/s from the first request to an empty outbox, then checks zero loss and zero duplicates at the hub.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

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

BACKLOG = """
INSERT INTO sync_outboxevent (event_id, edge_id, aggregate_type, aggregate_id, op, payload, created_at, state,
                              attempts, last_error)
SELECT gen_random_uuid(), %(edge)s,
       CASE WHEN i %% 2 = 0 THEN 'core.auditevent' ELSE 'wells.well' END,
       CASE WHEN i %% 2 = 0 THEN a.id::text ELSE w.id::text END,
       'upsert',
       CASE WHEN i %% 2 = 0 THEN jsonb_build_object(
              'id', a.id, 'at', now(), 'actor_name', 'bench', 'channel', 'system', 'ip', NULL, 'request_id', '',
              'action', 'update', 'object_type', 'wells.well', 'object_id', w.id, 'object_repr', 'W' || (i %% 10000),
              'changes', jsonb_build_object('name', jsonb_build_array(NULL, 'v' || i)), 'message', '',
              'field_code', 'FBENCH', 'site_code', 'SBENCH')
            ELSE jsonb_build_object(
              'id', w.id, 'site_id', '00000000-0000-4000-8000-00000000c001', 'name', 'BW' || (i %% 10000) || '~' || i,
              'uwi', 'BUWI-' || (i %% 10000), 'created_at', now(), 'updated_at', now())
       END,
       now(), 'pending', 0, ''
FROM generate_series(1, %(n)s) AS i
CROSS JOIN LATERAL (SELECT gen_random_uuid() AS id WHERE i = i) a
CROSS JOIN LATERAL (SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i %% 10000), 12, '0'))::uuid AS id) w;
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--forwarders", type=int, default=1)
    args = parser.parse_args()

    import dj_database_url
    import psycopg

    from tests.servers import PostgresServer
    from tests.sync.procs import Hub, base_env, forwarder_env

    server = None
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        server = PostgresServer().start()
        url = server.url()
    cfg = dj_database_url.parse(url)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    edge_db, hub_db = "sync_bench_edge", "sync_bench_hub"
    edge_url, hub_url = f"{url.rsplit('/', 1)[0]}/{edge_db}", f"{url.rsplit('/', 1)[0]}/{hub_db}"
    pg = lambda u: u.replace("postgres://", "postgresql://", 1)  # noqa: E731
    hub = None
    try:
        with psycopg.connect(pg(admin), autocommit=True) as conn:
            for name in (edge_db, hub_db):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{edge_db}"')
        print(f"migrating the edge database ({cfg['HOST']}:{cfg['PORT']}) ...", flush=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True,
                       env=base_env(DATABASE_URL=edge_url, EDGE_ROLE="edge"))
        with psycopg.connect(pg(admin), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{hub_db}" TEMPLATE "{edge_db}"')
        t0 = time.perf_counter()
        with psycopg.connect(pg(edge_url), autocommit=True) as conn:
            conn.execute(GENERATE)
            conn.execute(BACKLOG, {"n": args.events, "edge": "edge-bench"})
            conn.execute("ANALYZE sync_outboxevent")
            total = conn.execute("SELECT count(*) FROM sync_outboxevent WHERE state = 'pending'").fetchone()[0]
            size = conn.execute("SELECT pg_total_relation_size('sync_outboxevent')").fetchone()[0]
        print(f"backlog: {total} events generated in {time.perf_counter() - t0:.1f} s "
              f"(outbox {size / 1e6:.0f} MB, {size / total:.0f} bytes/event with indexes)", flush=True)
        with psycopg.connect(pg(hub_url), autocommit=True) as conn:  # the hub has the site already (master data)
            conn.execute(GENERATE)

        hub = Hub(hub_url).start()
        token = hub.issue_token("edge-bench")
        env = forwarder_env(edge_url, hub.url, token, "edge-bench", SYNC_BATCH_SIZE=args.batch,
                            SYNC_TIMEOUT_SECONDS=120, SYNC_PULL_ENABLED=0)
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "manage.py", "run_sync", "--once"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(args.forwarders)]
        outputs = [p.communicate() for p in procs]
        elapsed = time.perf_counter() - t0
        for (out, err), p in zip(outputs, procs, strict=True):
            print(f"forwarder exit={p.returncode}: {out.strip()} {err.strip()[-300:]}")

        with psycopg.connect(pg(edge_url), autocommit=True) as conn:
            left = conn.execute("SELECT count(*) FROM sync_outboxevent WHERE state <> 'delivered'").fetchone()[0]
        rows = hub.query("SELECT count(*), count(DISTINCT event_id) FROM sync_receivedevent WHERE edge_id = %s",
                         ("edge-bench",))[0]
        audit = hub.query("SELECT count(*) FROM core_auditevent WHERE actor_name = 'bench'")[0][0]
        wells = hub.query("SELECT count(*) FROM wells_well WHERE uwi LIKE 'BUWI-%%'")[0][0]
        inner = max(float(out.split("seconds=")[1].split()[0]) for out, _ in outputs if "seconds=" in out)
        print(f"drained {total} events in {inner:.1f} s: {total / inner:,.0f} events/s "
              f"(batch {args.batch}, {args.forwarders} forwarder(s); {elapsed:.1f} s and "
              f"{total / elapsed:,.0f} events/s counting the forwarder processes' start-up)")
        print(f"hub: {rows[0]} received, {rows[1]} distinct, duplicates {rows[0] - rows[1]}, "
              f"lost {total - rows[1]}, not delivered at the edge {left}; {audit} audit rows, {wells} wells")
        ok = rows[0] == rows[1] == total and left == 0
        print("ZERO LOSS, ZERO DUPLICATES" if ok else "MISMATCH")
        return 0 if ok else 1
    finally:
        if hub is not None:
            hub.stop()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
