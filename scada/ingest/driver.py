"""The http_ingest driver: a push driver that publishes the points the ingest endpoint buffered for its device's tags.

Points are removed from the buffer in the same transaction that reads them and published at once into the gateway's
sample stream; the gateway's shutdown flush covers them like any other source (a SIGKILL can lose at most the batch in
flight, the same window as a polled source).

A point stamped more than ``SCADA_LIVE_MAX_AGE_S`` from now (a system flushing its buffer after an outage, or points
that waited in the buffer while the gateway was down), or older than the tag's newest live point, is historical:
historian only, no current value, alarm or HMI update (``scada.runtime.samples.mark_historical``).

The buffer is read from the driver's own database thread through ``db_guarded``, like the gateway's and the CSV
watcher's database threads. A lost connection (PostgreSQL restarted, the session killed) fails one poll: the take's
transaction rolled back, so its points stay in the buffer; the thread drops the dead connection and the next poll
connects again and takes them. The driver keeps running meanwhile (no reconnect of the device, no Bad marks: the
source did not fail, and its points wait in the buffer) and logs the outage once, then once when it is over. The
thread's connection is closed when the driver stops.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.db import Error as DatabaseError

from scada.drivers.base import Driver
from scada.runtime.dbthread import db_guarded, shut_down_db_thread
from scada.runtime.samples import Sample, mark_historical

log = logging.getLogger("scada.ingest")


class HttpIngestDriver(Driver):
    polled = False

    def __init__(self, device, publish=None):
        super().__init__(device, publish)
        self.newest_live: dict[int, float] = {}  # tag key -> time of the newest point fed live
        self.stats: Counter = Counter()  # polls, points, db_errors
        self._db: ThreadPoolExecutor | None = None
        self._outage = 0  # polls failed on the database since the last good one

    async def _db_call(self, fn, *args):
        """Run ``fn`` in the driver's database thread (caller's audit context); a failure that left the thread's
        connection unusable closes it, so the next call connects again."""
        if self._db is None:  # closed (never the loop's default executor: its threads' connections are never closed)
            raise ConnectionError(f"http_ingest {self.device.name} is closed")
        ctx = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._db, functools.partial(ctx.run, db_guarded, fn, *args))

    async def connect(self) -> None:
        if self._db is None:
            self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ingest-{self.device.name}")
        self._stop = asyncio.Event()

    async def _take(self, keys, limit, idle):
        """The next batch of buffered points; [] when the database failed (logged once per outage)."""
        from scada.ingest.services import take

        self.stats["polls"] += 1
        try:
            rows = await self._db_call(take, keys, limit)
        except DatabaseError as exc:
            self.stats["db_errors"] += 1
            self._outage += 1
            if self._outage == 1:
                log.warning("http_ingest %s: cannot take buffered points (%s); retrying every %.2f s, the points "
                            "wait in the buffer", self.device.name, str(exc).strip(), idle)
            else:
                log.debug("http_ingest %s: database still away: %s", self.device.name, exc)
            return []
        if self._outage:
            log.info("http_ingest %s: database back after %d failed polls; taking buffered points again",
                     self.device.name, self._outage)
            self._outage = 0
        self.stats["points"] += len(rows)
        return rows

    async def run(self) -> None:
        keys = list(self.tags)
        limit = int((self.device.settings or {}).get("max_batch", 5000))
        idle = max(0.05, self.device.poll_interval_s)
        while not self._stop.is_set():
            rows = await self._take(keys, limit, idle)
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
        db, self._db = self._db, None
        await shut_down_db_thread(db)
