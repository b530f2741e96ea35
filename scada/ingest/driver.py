"""The http_ingest driver: a push driver that publishes the points the ingest endpoint buffered for its device's tags.

Points are removed from the buffer in the same transaction that reads them and published at once into the gateway's
sample stream; the gateway's shutdown flush covers them like any other source (a SIGKILL can lose at most the batch in
flight, the same window as a polled source).

A point stamped more than ``SCADA_LIVE_MAX_AGE_S`` from now (a system flushing its buffer after an outage, or points
that waited in the buffer while the gateway was down), or older than the tag's newest live point, is historical:
historian only, no current value, alarm or HMI update (``scada.runtime.samples.mark_historical``).
"""

from __future__ import annotations

import asyncio

from scada.drivers.base import Driver
from scada.runtime.samples import Sample, mark_historical


class HttpIngestDriver(Driver):
    polled = False

    def __init__(self, device, publish=None):
        super().__init__(device, publish)
        self.newest_live: dict[int, float] = {}  # tag key -> time of the newest point fed live

    async def connect(self) -> None:
        self._stop = asyncio.Event()

    async def run(self) -> None:
        from asgiref.sync import sync_to_async

        from scada.ingest.services import take

        keys = list(self.tags)
        limit = int((self.device.settings or {}).get("max_batch", 5000))
        idle = max(0.05, self.device.poll_interval_s)
        while not self._stop.is_set():
            rows = await sync_to_async(take, thread_sensitive=False)(keys, limit)
            if rows:
                samples = [Sample(r.tag_key, r.ts, r.value, r.quality) for r in rows]
                mark_historical(samples, self.newest_live)
                await self.publish(samples)
                if len(rows) == limit:
                    continue
            try:
                await asyncio.wait_for(self._stop.wait(), idle)
            except TimeoutError:
                pass

    async def read(self):
        return []

    async def close(self) -> None:
        if hasattr(self, "_stop"):
            self._stop.set()
