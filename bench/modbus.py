"""Modbus acquisition throughput: registers/s from 10 simulated RTUs, block reads vs one request per tag.

    .venv/bin/python bench/modbus.py [--rtus 10] [--tags 250] [--seconds 5]

The RTUs are real pymodbus TCP servers in a separate process; the client side is the gateway's ModbusDriver (one
connection per RTU, one request at a time per connection, RTUs polled in parallel, values decoded into samples).
Block mode plans contiguous reads of up to 125 registers; per-tag mode forces one request per tag.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")


async def serve(ports: list[int], size: int) -> None:
    import logging

    logging.disable(logging.WARNING)
    from scada.simulator import ModbusSlave

    slaves = [await ModbusSlave(port=p, size=size).start() for p in ports]
    for s in slaves:
        await s.set("holding", 0, list(range(size)))
    print("ready", flush=True)
    await asyncio.Event().wait()


async def measure(ports: list[int], tags: int, seconds: float, block: bool) -> tuple[float, int, int]:
    from scada.drivers.modbus import ModbusDriver
    from scada.runtime.config import DeviceConfig, TagConfig

    drivers = []
    for n, port in enumerate(ports):
        tag_configs = tuple(TagConfig(key=n * tags + i + 1, id="", name=f"R{n}.T{i}", data_type="uint16",
                                      address={"register_type": "holding", "address": i}) for i in range(tags))
        settings = {"host": "127.0.0.1", "port": port, "unit_id": 1, "timeout_s": 5, "word_order": "ABCD",
                    "address_base": 0, "max_block_registers": 125 if block else 1, "max_block_coils": 2000,
                    "max_gap": 0}
        driver = ModbusDriver(DeviceConfig(id=str(n), name=f"RTU-{n}", protocol="modbus_tcp", settings=settings,
                                           poll_interval_s=0, stale_after_intervals=3, tags=tag_configs))
        await driver.connect()
        drivers.append(driver)
    registers = 0
    stop_at = time.perf_counter() + seconds

    async def poll(driver):
        nonlocal registers
        while time.perf_counter() < stop_at:
            samples = await driver.read()
            assert all(s.quality == 0 for s in samples)
            registers += len(samples)

    start = time.perf_counter()
    await asyncio.gather(*(poll(d) for d in drivers))
    elapsed = time.perf_counter() - start
    requests = sum(d.requests for d in drivers)
    for d in drivers:
        await d.close()
    return registers / elapsed, requests, len(drivers[0].blocks)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtus", type=int, default=10)
    parser.add_argument("--tags", type=int, default=250, help="uint16 tags (registers) per RTU")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--serve", nargs="*", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.tags + 8))
        return

    import django

    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    django.setup()
    from tests.servers import free_port

    ports = [free_port() for _ in range(args.rtus)]
    server = subprocess.Popen([sys.executable, __file__, "--tags", str(args.tags), "--serve", *map(str, ports)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        print(f"modbus bench: {args.rtus} simulated RTUs (pymodbus TCP, separate process), {args.tags} uint16 "
              f"registers each, {args.seconds:g} s per mode, {os.cpu_count()} CPUs")
        block_rate, block_requests, nblocks = asyncio.run(measure(ports, args.tags, args.seconds, True))
        tag_rate, tag_requests, ntag = asyncio.run(measure(ports, args.tags, args.seconds, False))
    finally:
        server.terminate()
        server.wait(10)
    print(f"  block reads ({nblocks} requests/poll/RTU)   : {block_rate:>10,.0f} registers/s "
          f"({block_requests / args.seconds:,.0f} requests/s)")
    print(f"  one request per tag ({ntag}/poll/RTU) : {tag_rate:>10,.0f} registers/s "
          f"({tag_requests / args.seconds:,.0f} requests/s)")
    print(f"  ratio block / per-tag                 : {block_rate / tag_rate:>10.1f}x")
    ok = block_rate >= 20_000 and block_rate / tag_rate >= 10
    print(f"  target: >= 20,000 registers/s and >= 10x per-tag -> {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
