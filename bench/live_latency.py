"""End-to-end latency of the live HMI stream, from an MQTT publish to the websocket frame on the operator's screen.

Two paths are measured in the same run, on a real daphne (private PostgreSQL, or SQLite with --db sqlite) and a real
Redis started here, with N websocket clients subscribed to one site:

- ``mqtt`` (the issue's figure): a publisher sends JSON batches ``{"ts": <epoch ms>, "values": {...}}`` at R tag
  changes per second (QoS 1) to a real Mosquitto; a real ``manage.py run_scada`` process (MQTT driver, alarm engine,
  live publisher with its coalescing tick, historian writer) forwards them over channels-redis to daphne;
- ``direct`` (the baseline): the gateway's LivePublisher driven in this process, without the broker and the driver.

Each value carries its source timestamp (the publish time); clients measure receive time minus source time. Prints
p50/p95/p99 per path and rate.

Usage: .venv/bin/python bench/live_latency.py [--clients 20] [--rates 1000,5000] [--seconds 10] [--tags 1000]
                                               [--paths mqtt,direct]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(data, p):
    data = sorted(data)
    if not data:
        return float("nan")
    k = (len(data) - 1) * p / 100
    f, c = int(k), min(int(k) + 1, len(data) - 1)
    return data[f] + (data[c] - data[f]) * (k - f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--rates", default="1000,5000")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--paths", default="mqtt,direct")
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="postgres",
                    help="postgres: a private PostgreSQL like a production box (default); sqlite: the demo's")
    args = ap.parse_args()
    paths = args.paths.split(",")

    from tests.servers import MosquittoServer, PostgresServer, RedisServer, free_port, wait_for_port

    tmp = Path(tempfile.mkdtemp(prefix="live-bench-"))
    redis = RedisServer().start()
    pg = None
    database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    if args.db == "postgres":
        import psycopg

        pg = PostgresServer().start()
        with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE wellsite")
        database_url = pg.url()
    mosquitto = MosquittoServer().start() if "mqtt" in paths else None
    env = {
        "DATABASE_URL": database_url, "REDIS_URL": redis.url, "DEBUG": "1",
        "SECRET_KEY": secrets.token_urlsafe(40), "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(tmp), "TESTING": "0",
    }
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "erp.settings"
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True,
                   env={**os.environ})
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.services import create_or_update_user
    from apps.wells.models import Field, Site
    from scada.models import Device, Tag

    field = Field.objects.create(code="BENCH", name="Bench field")
    site = Site.objects.create(field=field, code="BENCH-PAD", name="Bench pad")
    device = Device.objects.create(site=site, name="MQTT-BENCH", protocol="mqtt", poll_interval_ms=1000,
                                   connection={"broker_url": mosquitto.url if mosquitto else "mqtt://127.0.0.1:1",
                                               "topic_prefix": "bench", "qos": 1})
    Tag.objects.bulk_create([
        Tag(device=device, name=f"B{i:04d}.PV", key=i + 1, address={"key": f"B{i:04d}.PV"}, data_type="float32")
        for i in range(args.tags)
    ])
    create_or_update_user("scada", "scada")
    user, _ = create_or_update_user("bench", "operator", fields=["BENCH"])
    token = str(AccessToken.for_user(user))
    port = free_port()
    daphne = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "erp.asgi:application"], cwd=ROOT, env={**os.environ},
                              stdout=subprocess.DEVNULL, stderr=open(tmp / "daphne.log", "wb"))
    gateway = None
    if mosquitto:
        gateway = subprocess.Popen([sys.executable, "manage.py", "run_scada"], cwd=ROOT,
                                   env={**os.environ, "SCADA_FLUSH_MS": "250"},
                                   stdout=subprocess.DEVNULL, stderr=open(tmp / "run_scada.log", "wb"))
    try:
        wait_for_port(port, daphne, name="daphne")
        keys = list(range(1, args.tags + 1))
        names = [f"B{i:04d}.PV" for i in range(args.tags)]
        print(f"{args.clients} websocket clients, {args.tags} tags, {args.seconds:.0f} s per rate, {args.db} "
              f"(latency = frame received - source timestamp)")
        for rate in (int(r) for r in args.rates.split(",")):
            for path in paths:
                if path == "mqtt":
                    lat = asyncio.run(run_rate_mqtt(port, token, names, rate, args.clients, args.seconds,
                                                    mosquitto.port))
                else:
                    lat = asyncio.run(run_rate(port, token, keys, rate, args.clients, args.seconds))
                mean = statistics.fmean(lat) if lat else float("nan")
                print(f"{path:>6} rate {rate:>6} changes/s: {len(lat):>8} values received  "
                      f"p50 {percentile(lat, 50):6.1f} ms  p95 {percentile(lat, 95):6.1f} ms  "
                      f"p99 {percentile(lat, 99):6.1f} ms  mean {mean:6.1f} ms", flush=True)
    finally:
        for proc in (gateway, daphne):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
        redis.stop()
        if mosquitto:
            mosquitto.stop()
        if pg:
            from django.db import connections

            connections.close_all()
            pg.stop()


async def client(port, token, ready, stop, latencies):
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/hmi/", origin="http://127.0.0.1",
                                  max_size=2**24) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "site": "BENCH-PAD"}))
        await ws.recv()  # snapshot
        ready.release()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            msg = json.loads(raw)
            if msg.get("type") == "values":
                latencies.extend((now - v["ts"]) * 1000.0 for v in msg["values"])


class BenchGateway:
    async def db_call(self, fn, *args):
        return await asyncio.to_thread(fn, *args)


async def run_rate(port, token, keys, rate, n_clients, seconds):
    from scada.hmi.publisher import LivePublisher
    from scada.runtime.samples import Sample

    ready, stop, latencies = asyncio.Semaphore(0), asyncio.Event(), []
    tasks = [asyncio.create_task(client(port, token, ready, stop, latencies)) for _ in range(n_clients)]
    for _ in range(n_clients):
        await ready.acquire()
    publisher, gateway = LivePublisher(), BenchGateway()
    step = 0.01  # a driver batch every 10 ms
    per_step = max(1, int(rate * step))
    rng = random.Random(1)
    warmup = 1.0
    start = time.monotonic()
    while time.monotonic() - start < seconds + warmup:
        t = time.time()
        await publisher([Sample(rng.choice(keys), t, rng.random() * 100.0) for _ in range(per_step)], gateway)
        if time.monotonic() - start < warmup:
            latencies.clear()
        await asyncio.sleep(max(0.0, step - (time.time() - t)))
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    if publisher._task:
        publisher._task.cancel()
    return latencies


async def run_rate_mqtt(port, token, names, rate, n_clients, seconds, broker_port):
    """The publisher of a field device: JSON batches every 10 ms over a real broker to the real gateway process."""
    import paho.mqtt.client as mqtt

    ready, stop, latencies = asyncio.Semaphore(0), asyncio.Event(), []
    tasks = [asyncio.create_task(client(port, token, ready, stop, latencies)) for _ in range(n_clients)]
    for _ in range(n_clients):
        await ready.acquire()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-publisher-{os.getpid()}")
    publisher.max_queued_messages_set(0)
    publisher.connect("127.0.0.1", broker_port)
    publisher.loop_start()
    step = 0.01
    per_step = max(1, int(rate * step))
    rng = random.Random(1)
    warmup = 2.0  # the gateway subscribes and the first snapshot settles
    start = time.monotonic()
    while time.monotonic() - start < seconds + warmup:
        t = time.time()
        values = {rng.choice(names): round(rng.random() * 100.0, 3) for _ in range(per_step)}
        publisher.publish("bench/batch", json.dumps({"ts": int(t * 1000), "values": values}), qos=1)
        if time.monotonic() - start < warmup:
            latencies.clear()
        await asyncio.sleep(max(0.0, step - (time.time() - t)))
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    publisher.loop_stop()
    publisher.disconnect()
    return latencies


if __name__ == "__main__":
    main()
