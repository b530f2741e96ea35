"""End-to-end latency of the live HMI stream: gateway publish -> channels-redis -> daphne -> websocket frame.

Runs a real daphne (SQLite database, real Redis started here), connects N websocket clients subscribed to one site,
and drives the gateway's LivePublisher (its real 50 ms coalescing tick) at R tag changes per second. Each value carries
its source timestamp; clients measure receive time minus source time. Prints p50/p95/p99 per rate.

The MQTT hop (broker -> gateway driver) is not included: it arrives with the MQTT driver (SCADA sources issue).

Usage: .venv/bin/python bench/live_latency.py [--clients 20] [--rates 1000,5000] [--seconds 10] [--tags 1000]
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
    args = ap.parse_args()

    from tests.servers import RedisServer, free_port, wait_for_port

    tmp = Path(tempfile.mkdtemp(prefix="live-bench-"))
    redis = RedisServer().start()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "REDIS_URL": redis.url, "DEBUG": "1",
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
    device = Device.objects.create(site=site, name="RTU-BENCH", protocol="modbus_tcp",
                                   connection={"host": "127.0.0.1", "port": 1502})
    Tag.objects.bulk_create([
        Tag(device=device, name=f"B{i:04d}.PV", key=i + 1, address={"register_type": "holding", "address": i * 2})
        for i in range(args.tags)
    ])
    user, _ = create_or_update_user("bench", "operator", fields=["BENCH"])
    token = str(AccessToken.for_user(user))
    port = free_port()
    daphne = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "erp.asgi:application"], cwd=ROOT, env={**os.environ},
                              stdout=subprocess.DEVNULL, stderr=open(tmp / "daphne.log", "wb"))
    try:
        wait_for_port(port, daphne, name="daphne")
        keys = list(range(1, args.tags + 1))
        for rate in (int(r) for r in args.rates.split(",")):
            lat = asyncio.run(run_rate(port, token, keys, rate, args.clients, args.seconds))
            print(f"rate {rate:>6} changes/s, {args.clients} clients: {len(lat):>8} frames values  "
                  f"p50 {percentile(lat, 50):6.1f} ms  p95 {percentile(lat, 95):6.1f} ms  "
                  f"p99 {percentile(lat, 99):6.1f} ms  mean {statistics.fmean(lat) if lat else float('nan'):6.1f} ms")
    finally:
        daphne.terminate()
        daphne.wait(timeout=10)
        redis.stop()


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


if __name__ == "__main__":
    main()
