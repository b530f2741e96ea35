"""A real asyncua server (the simulated separation facility) in its own thread and event loop, independent of the
code under test (the driver runs in the test's own loop)."""

from __future__ import annotations

import asyncio
import threading

from scada.sim_opcua import OpcUaFacility
from tests.servers import free_port


class OpcUaServerThread:
    def __init__(self, port: int | None = None, extra_points: int = 0, **security):
        self.port = port or free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="opcua-server")
        self.thread.start()
        self.facility = OpcUaFacility(port=self.port, path="/wellsite/", extra_points=extra_points, **security)

    @property
    def endpoint(self) -> str:
        return self.facility.endpoint

    def node_ids(self) -> dict[str, str]:
        return self.facility.node_ids()

    def _run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self):
        self._run(self.facility.start())
        return self

    def stop(self):
        self._run(self.facility.stop())

    def restart(self, pause: float = 0.3):
        self._run(self.facility.restart(pause))

    def close(self):
        if self.facility.running:
            self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def set(self, name, value, status=None, ts=None):
        self._run(self.facility.set(name, value, status, ts))

    def get(self, name):
        return self._run(self.facility.get(name))
