"""The async driver base class every protocol implements.

A driver owns one connection to one device. The gateway creates it with the device's configuration snapshot and a
``publish`` coroutine, then:

- ``await connect()``; on failure the gateway retries with exponential backoff (capped by SCADA_RECONNECT_MAX_S);
- poll drivers (``polled = True``: Modbus): the gateway calls ``await read()`` every poll interval; it returns the
  samples of every tag of the device. A tag whose read failed comes back with quality Bad and value None (never the
  last good value). Raise ``ConnectionError`` when the connection itself is lost: the gateway marks every tag Bad and
  reconnects;
- push drivers (``polled = False``: MQTT, OPC-UA subscriptions, HTTP/CSV ingest): ``read()`` is not called; the
  driver calls ``await self.publish(samples)`` itself from ``run()`` (which the gateway awaits after connect) and
  returns/raises when the connection ends. ``await self.publish(samples, on_commit=callback)`` also calls
  ``callback()`` once those samples are committed to the historian: a source acknowledges its input there (MQTT
  manual ack, CSV archive), so a gateway crash makes the source redeliver instead of losing data;
- ``await write(tag, value)`` sends a setpoint in engineering units (raise ``WriteError`` with the reason);
- ``await close()`` at shutdown or when the configuration of the device changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from scada.runtime.config import DeviceConfig, TagConfig
from scada.runtime.samples import Sample


class WriteError(Exception):
    """A setpoint write failed; the message is the reason stored on the WriteCommand."""


class Driver:
    polled = True
    # Report by exception (OPC-UA subscriptions with deadbands, Sparkplug B, daily CSV exports): an unchanged value is
    # not re-sent, so a quiet tag is current, not stale, while the connection lives. The gateway's age-based stale
    # check skips such devices; their driver marks the tags Bad/Stale itself when the link or the source dies.
    report_by_exception = False

    def __init__(self, device: DeviceConfig, publish: Callable[[list[Sample]], Awaitable[None]] | None = None):
        self.device = device
        self.tags = {t.key: t for t in device.tags}
        self.publish = publish

    async def connect(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def read(self) -> list[Sample]:  # pragma: no cover - interface
        raise NotImplementedError

    async def run(self) -> None:  # push drivers only
        raise NotImplementedError

    async def write(self, tag: TagConfig, value: float) -> None:
        raise WriteError(f"{self.device.protocol} devices do not accept writes")

    async def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError
