"""A real pymodbus server in its own thread and event loop (independent of the code under test)."""

from __future__ import annotations

import asyncio
import threading
import time

from scada.simulator import ModbusSlave
from tests.servers import free_port


class ModbusServerThread:
    def __init__(self, port: int | None = None, unit: int = 1, serial_port: str | None = None, size: int = 512):
        self.port = port or free_port()
        self.unit = unit
        self.serial_port = serial_port
        self.size = size
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.slave = None

    def _run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self):
        self.slave = ModbusSlave(port=self.port, unit=self.unit, serial_port=self.serial_port, size=self.size)
        self._run(self.slave.start())
        self.slave.server.trace_pdu = self._trace  # each connection accepted from now on reports its PDUs here
        return self

    reads = 0  # read requests received (all connections, counted in the server's loop)

    def _trace(self, sending, pdu):
        if not sending and pdu.function_code in (1, 2, 3, 4):
            self.reads += 1
        return pdu

    def wait_for_reads(self, count: int, timeout: float = 60.0) -> None:
        """Block until ``count`` more read requests than now have been received. A client asks again only after
        handling the previous answer (one request at a time per connection), so two more reads after a ``set``
        mean a whole poll of the new values has been read and handed on by the client."""
        target = self.reads + count
        deadline = time.monotonic() + timeout
        while self.reads < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"the server received {self.reads - target + count} of {count} reads")
            time.sleep(0.01)

    def stop(self):
        if self.slave is not None:
            self._run(self.slave.stop())
            self.slave = None

    def close(self):
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def set(self, register_type, offset, values):
        self._run(self.slave.set(register_type, offset, values))

    def get(self, register_type, offset, count=1):
        return self._run(self.slave.get(register_type, offset, count))
