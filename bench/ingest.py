"""Sustained MQTT ingest: publishers (separate processes, QoS 1) -> a private Mosquitto -> the gateway's MQTT driver
-> publish() -> recorder -> historian writer (binary COPY) on PostgreSQL, in points/s, for batched JSON messages
(100 values each) and single-value messages, next to a raw psycopg binary COPY of the same rows into the same table
in the same run.

    .venv/bin/python bench/ingest.py [--batched 4000] [--singles 60000] [--publishers 2] [--tags 1000]

The clock runs from the moment the publishers start until the last row is committed (every message acknowledged
after its commit, as in production). The gateway runs without sample hooks (alarm engine, live publisher), like
bench/historian.py. PostgreSQL: DATABASE_URL (postgres://...) if set, else a throw-away server started like the
tests do. Mosquitto: a private one on a free port (unlimited queue).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The run's start, shared with the spawned publishers through the environment: values stamped now are live values
# (current value store), as in the field; older than SCADA_LIVE_MAX_AGE_S they would take the historian-only path.
T0_MS = int(os.environ.setdefault("BENCH_INGEST_T0_MS", str(int(time.time() * 1000))))
MOSQUITTO_PUB = shutil.which("mosquitto_pub")  # Debian's mosquitto-clients; else paho publishers


def tag_name(i: int) -> str:
    return f"B{i:04d}.PV"


def message_values(mode: str, index: int, tags: int, per_message: int):
    """(ts_ms, {tag: value}) of message ``index``: every value differs from the tag's previous one."""
    ts = T0_MS + index
    if mode == "single":
        return ts, {tag_name(index % tags): float(index)}
    first = (index * per_message) % tags
    return ts, {tag_name((first + j) % tags): float(index * per_message + j) for j in range(per_message)}


def write_payloads(path: Path, mode: str, indexes: range, tags: int, per_message: int) -> None:
    """One JSON message a line, for ``mosquitto_pub -l`` (a publisher in C: the field side is not the bottleneck)."""
    import orjson

    with path.open("wb") as out:
        for i in indexes:
            ts, values = message_values(mode, i, tags, per_message)
            if mode == "single":
                name, value = next(iter(values.items()))
                out.write(orjson.dumps({"tag": name, "value": value, "ts": ts}) + b"\n")
            else:
                out.write(orjson.dumps({"ts": ts, "values": values}) + b"\n")


def publisher(url: str, topic: str, mode: str, indexes: range, tags: int, per_message: int, go, done) -> None:
    """paho publisher (when mosquitto_pub is not installed): keeps a window of 200 unacknowledged messages (paho's
    acknowledgement handling is linear in the messages it holds)."""
    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    host, port = url.rsplit("/", 1)[-1].split(":")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}", protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(host, int(port))
    client.loop_start()
    payloads = []
    for i in indexes:
        ts, values = message_values(mode, i, tags, per_message)
        if mode == "single":
            name, value = next(iter(values.items()))
            payloads.append(orjson.dumps({"tag": name, "value": value, "ts": ts}))
        else:
            payloads.append(orjson.dumps({"ts": ts, "values": values}))
    go.wait()
    infos = []
    for i, p in enumerate(payloads):
        if i >= 200:
            infos[i - 200].wait_for_publish(120)
        infos.append(client.publish(topic, p, qos=1))
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()
    done.put(len(infos))


def _broker_class():
    from tests.servers import MosquittoServer

    class BenchBroker(MosquittoServer):
        """The tests' Mosquitto without the per-client queue limit (the backlog may exceed 100,000 messages)."""

        limits = ("max_queued_messages 0", "max_inflight_messages 0")

    return BenchBroker


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batched", type=int, default=4000, help="messages of 100 values")
    parser.add_argument("--singles", type=int, default=60_000, help="single-value messages")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--tags", type=int, default=1000)
    parser.add_argument("--flush", type=int, default=5000, help="gateway flush size (SCADA_FLUSH_SAMPLES)")
    parser.add_argument("--only", choices=("batched", "single"), default=None)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    server = None
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        from tests.servers import PostgresServer

        server = PostgresServer().start()
        import psycopg

        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_ingest")
        url = server.url("bench_ingest")
    os.environ.update({"DATABASE_URL": url, "DEBUG": "1", "LOG_LEVEL": "WARNING",
                       "DJANGO_SETTINGS_MODULE": "erp.settings"})
    broker = _broker_class()().start()
    try:
        run(args, url, broker.url)
    finally:
        broker.stop()
        if server is not None:
            server.stop()


def run(args, url: str, mqtt_url: str) -> None:
    import django

    django.setup()
    import psycopg
    from django.db import connection

    from scada import historian
    from scada.protocols import validate_connection
    from scada.runtime.config import DeviceConfig, TagConfig
    from scada.runtime.gateway import Gateway

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS scada_historian CASCADE")
    kind = historian.create_schema(connection)
    tags = [TagConfig(key=k, id=str(k), name=tag_name(k - 1), data_type="float64", address={"key": tag_name(k - 1)})
            for k in range(1, args.tags + 1)]
    key_of = {t.name: t.key for t in tags}
    print(f"MQTT ingest bench: PostgreSQL ({kind}), Mosquitto QoS 1, {args.tags} tags, {args.publishers} publisher "
          f"processes, gateway flush {args.flush}, {os.cpu_count()} CPUs")

    def count():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM scada_historian")
            return cursor.fetchone()[0]

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE scada_historian")

    tmp = tempfile.mkdtemp(prefix="bench-ingest-")
    publishers = "mosquitto_pub -l" if MOSQUITTO_PUB else "paho"
    print(f"  publishers: {args.publishers} x {publishers} (separate processes), QoS 1")

    def scenario(mode: str, n_messages: int, per_message: int) -> dict:
        truncate()
        connection.close()
        points = n_messages * per_message
        topic_prefix = f"bench/{mode}"
        settings = validate_connection("mqtt", {"broker_url": mqtt_url, "topic_prefix": topic_prefix,
                                                "client_id": f"bench-gateway-{mode}", "receive_maximum": 65535})
        config = DeviceConfig(id=f"bench-{mode}", name=f"BENCH-{mode.upper()}", protocol="mqtt", settings=settings,
                              poll_interval_s=1.0, stale_after_intervals=3600, tags=tuple(tags))
        share = -(-n_messages // args.publishers)
        parts = [range(p * share, min(n_messages, (p + 1) * share)) for p in range(args.publishers)]
        topic = f"{topic_prefix}/data"
        host, port = mqtt_url.rsplit("/", 1)[-1].split(":")
        files, procs = [], []
        if MOSQUITTO_PUB:
            for p, part in enumerate(parts):
                path = Path(tmp) / f"{mode}-{p}.jsonl"
                write_payloads(path, mode, part, args.tags, per_message)
                files.append(path)
        else:
            ctx = mp.get_context("spawn")
            go, done = ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=publisher, args=(mqtt_url, topic, mode, part, args.tags, per_message, go,
                                                         done)) for part in parts]
            for p in procs:
                p.start()

        def start_publishers():
            if not MOSQUITTO_PUB:
                go.set()
                return []
            return [subprocess.Popen([MOSQUITTO_PUB, "-h", host, "-p", port, "-t", topic, "-q", "1", "-l",
                                      "-i", f"bench-pub-{mode}-{i}"], stdin=path.open("rb"))
                    for i, path in enumerate(files)]

        async def gateway_run():
            gw = Gateway(flush_samples=args.flush, flush_ms=250, queue_max=max(200_000, args.flush * 4), hooks=[])
            writer = asyncio.create_task(gw._writer())
            await gw.apply_config({config.id: config})
            runner = gw.runners[config.id]
            while not runner.connected:
                await asyncio.sleep(0.01)
            await asyncio.sleep(3.0)  # publishers build their payloads meanwhile
            start, cpu = time.perf_counter(), time.process_time()
            pubs = start_publishers()
            while gw.stats.recorded < points:
                await asyncio.sleep(0.002)
            elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
            await asyncio.sleep(0.3)  # the last acknowledgements
            driver = runner.driver
            await runner.stop()
            gw._stopping = True
            await writer
            await gw.db_call(lambda: connection.close())
            gw.db.shutdown()
            return {"elapsed": elapsed, "cpu": cpu_used, "flushes": gw.stats.flushes, "recorded": gw.stats.recorded,
                    "dups": driver.duplicates_dropped, "dead": driver.dead_letters}, pubs

        result, pubs = asyncio.run(gateway_run())
        for p in pubs:
            assert p.wait(60) == 0
        if procs:
            sent = sum(done.get(timeout=120) for _ in procs)
            for p in procs:
                p.join(30)
            assert sent == n_messages, (sent, n_messages)
        stored = count()
        assert stored == points, (stored, points)
        result.update(points=points, messages=n_messages)
        return result

    def raw_copy(mode: str, n_messages: int, per_message: int, batch: int) -> float:
        rows = []
        for i in range(n_messages):
            ts, values = message_values(mode, i, args.tags, per_message)
            when = datetime.fromtimestamp(ts / 1000, UTC)
            rows += [(when, key_of[name], value, 0) for name, value in values.items()]
        truncate()
        connection.close()
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as raw:
            start = time.perf_counter()
            for i in range(0, len(rows), batch):
                with raw.cursor() as cur, cur.copy(historian.COPY_SQL) as copy:
                    copy.set_types(["timestamptz", "int4", "float8", "int2"])
                    for row in rows[i:i + batch]:
                        copy.write_row(row)
                raw.commit()
            rate = len(rows) / (time.perf_counter() - start)
        assert count() == len(rows)
        return rate

    results = {}
    if args.only in (None, "batched"):
        raw = raw_copy("batched", args.batched, 100, args.flush)
        r = scenario("batched", args.batched, 100)
        rate = r["points"] / r["elapsed"]
        results["batched"] = rate
        print(f"  batched (100 values/message), {r['messages']:,} messages = {r['points']:,} points")
        print(f"    raw psycopg binary COPY, {args.flush}-row batches : {raw:>12,.0f} points/s")
        print(f"    MQTT -> gateway -> historian           : {rate:>12,.0f} points/s  "
              f"({r['messages'] / r['elapsed']:,.0f} messages/s, {r['flushes']} flushes, "
              f"gateway CPU {r['cpu'] / r['elapsed']:.0%} of one core)")
        print(f"    ratio MQTT path / raw COPY             : {rate / raw:>12.0%}")
        print(f"    target >= 100,000 points/s and >= 30% of raw COPY -> "
              f"{'MET' if rate >= 100_000 and rate / raw >= 0.30 else 'NOT MET'}")
    if args.only in (None, "single"):
        raw = raw_copy("single", args.singles, 1, args.flush)
        r = scenario("single", args.singles, 1)
        rate = r["messages"] / r["elapsed"]
        results["single"] = rate
        print(f"  single-value messages, {r['messages']:,} messages")
        print(f"    raw psycopg binary COPY, {args.flush}-row batches : {raw:>12,.0f} points/s")
        print(f"    MQTT -> gateway -> historian           : {rate:>12,.0f} messages/s (= points/s)  "
              f"({r['flushes']} flushes, gateway CPU {r['cpu'] / r['elapsed']:.0%} of one core)")
        print(f"    ratio MQTT path / raw COPY             : {rate / raw:>12.0%}")
        print(f"    target >= 15,000 messages/s -> {'MET' if rate >= 15_000 else 'NOT MET'}")
    print(f"  machine load average at the end          : {os.getloadavg()[0]:>12.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
