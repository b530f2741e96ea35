"""Builders shared by the SCADA tests."""

from __future__ import annotations

import asyncio
import time

from scada.models import Device, Tag


async def until(predicate, timeout=20.0, what="condition"):
    """Wait in the event loop until ``predicate()`` (a value or an awaitable) is truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")

_n = [0]


def make_device(site, protocol="modbus_tcp", **connection):
    _n[0] += 1
    if protocol == "modbus_tcp":
        connection = {"host": "127.0.0.1", "port": 1502, **connection}
    device = Device(site=site, name=f"RTU-T{_n[0]}", protocol=protocol, connection=connection,
                    poll_interval_ms=connection.pop("poll_ms", 1000) if "poll_ms" in connection else 1000)
    device.full_clean()
    device.save()
    return device


def make_tag(device, name=None, register_type="holding", address=0, data_type="float32", **fields):
    _n[0] += 1
    tag = Tag(device=device, name=name or f"T{_n[0]}.PV", data_type=data_type,
              address={"register_type": register_type, "address": address}, **fields)
    tag.full_clean()
    tag.save()
    return tag
