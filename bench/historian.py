"""Historian writer throughput: samples pushed into the gateway's queue -> committed rows, next to a raw psycopg
binary COPY of the same rows into the same table, in the same run, on plain PostgreSQL (daily partitions).

    .venv/bin/python bench/historian.py [--samples 1000000] [--tags 2000] [--batch 5000]

PostgreSQL: DATABASE_URL (postgres://...) if set, else a throw-away server started like the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--tags", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=5000, help="gateway flush size (SCADA_FLUSH_SAMPLES)")
    parser.add_argument("--chunk", type=int, default=500, help="samples per publish() (one driver read)")
    args = parser.parse_args()

    server = None
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        from tests.servers import PostgresServer

        server = PostgresServer().start()
        import psycopg

        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = server.url("bench")
    os.environ.update({"DATABASE_URL": url, "DEBUG": "1", "LOG_LEVEL": "WARNING",
                       "DJANGO_SETTINGS_MODULE": "erp.settings"})
    try:
        run(args, url)
    finally:
        if server is not None:
            server.stop()


def run(args, url):
    import django

    django.setup()
    import psycopg
    from django.db import connection

    from scada import historian
    from scada.runtime.config import TagConfig
    from scada.runtime.gateway import Gateway
    from scada.runtime.samples import Sample

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS scada_historian CASCADE")
    kind = historian.create_schema(connection)
    n, tags = args.samples, args.tags
    t0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0).timestamp() - 3600
    # every sample differs from the tag's previous one: the deadband filter keeps all of them
    samples = [Sample(i % tags + 1, t0 + (i // tags) * 0.001, float(i) * 0.5, 0) for i in range(n)]
    rows = [(s.ts, s.key, s.value, s.quality) for s in samples]
    print(f"historian bench: {n:,} samples, {tags} tags, PostgreSQL ({kind}), flush {args.batch}, "
          f"publish chunks of {args.chunk}, {os.cpu_count()} CPUs")

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE scada_historian")

    def count():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM scada_historian")
            return cursor.fetchone()[0]

    # 1) raw psycopg binary COPY (write_row with set_types), same rows, same batch size, one commit per batch
    dt_rows = [(datetime.fromtimestamp(ts, UTC), key, value, quality) for ts, key, value, quality in rows]
    truncate()
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as raw:
        start = time.perf_counter()
        for i in range(0, n, args.batch):
            with raw.cursor() as cur, cur.copy(historian.COPY_SQL) as copy:
                copy.set_types(["timestamptz", "int4", "float8", "int2"])
                for row in dt_rows[i:i + args.batch]:
                    copy.write_row(row)
            raw.commit()
        raw_batched = n / (time.perf_counter() - start)
    assert count() == n
    truncate()
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as raw:
        start, cpu = time.perf_counter(), time.process_time()
        with raw.cursor() as cur, cur.copy(historian.COPY_SQL) as copy:
            copy.set_types(["timestamptz", "int4", "float8", "int2"])
            for row in dt_rows:
                copy.write_row(row)
        raw.commit()
        raw_single = n / (time.perf_counter() - start)
        raw_cpu = n / (time.process_time() - cpu)
    assert count() == n
    truncate()
    connection.close()

    # 2) the gateway: publish() -> bounded queue -> deadband filter -> batches -> binary COPY in the DB thread
    async def gateway_run():
        gw = Gateway(flush_samples=args.batch, flush_ms=250, queue_max=max(200_000, args.batch * 4), hooks=[])
        gw.recorder.configure([TagConfig(key=k, id=str(k), name=f"T{k}", data_type="float64", address={})
                               for k in range(1, tags + 1)])
        writer = asyncio.create_task(gw._writer())
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, args.chunk):
            await gw.publish(samples[i:i + args.chunk])
        while gw.stats.recorded < n:
            await asyncio.sleep(0.001)
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
        gw._stopping = True
        await writer
        await gw.db_call(lambda: connection.close())
        gw.db.shutdown()
        return n / elapsed, gw.stats.flushes, n / cpu_used

    gateway_rate, flushes, gateway_cpu = asyncio.run(gateway_run())
    assert count() == n
    best_raw = max(raw_batched, raw_single)
    print(f"  raw psycopg COPY, {args.batch}-row batches : {raw_batched:>12,.0f} points/s")
    print(f"  raw psycopg COPY, one statement      : {raw_single:>12,.0f} points/s")
    print(f"  gateway historian writer             : {gateway_rate:>12,.0f} points/s  ({flushes} flushes)")
    print(f"  ratio gateway / best raw COPY        : {gateway_rate / best_raw:>12.0%}")
    print(f"  client CPU cost (points per CPU-second of this process, load-independent): raw COPY "
          f"{raw_cpu:,.0f}, gateway {gateway_cpu:,.0f}")
    print(f"  machine load average at the end      : {os.getloadavg()[0]:>12.2f}")
    print(f"  target: >= 150,000 points/s and >= 45% of raw COPY -> "
          f"{'MET' if gateway_rate >= 150_000 and gateway_rate / best_raw >= 0.45 else 'NOT MET'}")


if __name__ == "__main__":
    main()
