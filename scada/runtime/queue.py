"""A bounded sample queue: back-pressure instead of memory growth.

Bounded by the number of samples it holds (not the number of puts). ``put_many`` waits while the queue is full, so
when the database is slow or down the drivers slow down; ``get_batch`` returns up to N samples as soon as N are
there, or whatever arrived within the flush interval.

Commit markers: ``put_marker(callback)`` records a callback at the current end of the queue. ``due_markers(n)``
returns the callbacks whose position is at or before the ``n``-th sample ever taken, so the writer calls them once
every sample published before the marker is committed (or filtered out by the recorder): an MQTT driver acknowledges
its messages, a CSV watcher archives its file. Markers cost nothing per sample (a position, not an item in the deque).

Quality marks: ``put_marks`` queues the Bad/Stale samples the gateway makes itself (a device's tags after a failure,
silent tags) without ever waiting. A device runner that waited on a full queue (the database down for long) could not
retry its connection until the database came back. Below the bound they are queued as usual; on a full queue they go
past it, coalesced per tag: a mark that repeats the tag's previous mark past the bound (same quality, nothing newer
of that tag put in between) is not queued again, since its row would only repeat the previous one (the recorder
keeps a repeated Bad row only as a ``max_interval_s`` heartbeat). While the queue stays full it grows past the bound
by a mark per tag and change of quality at most (a tag only turns Stale again after a new value), and nothing a
source measured is ever dropped: sources go through ``put_many``, which waits.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class SampleQueue:
    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._items: deque = deque()
        self._grown = asyncio.Event()
        self._shrunk = asyncio.Event()
        self._markers: deque = deque()  # (position in the stream of samples ever put, callback)
        self._marks: dict[int, int] = {}  # tag key -> quality of its last mark put past the bound (queue full)
        self.put_total = 0
        self.taken_total = 0

    def __len__(self) -> int:
        return len(self._items)

    async def put_many(self, samples) -> None:
        while len(self._items) >= self.maxsize:
            self._shrunk.clear()
            await self._shrunk.wait()
        if self._marks:
            self._forget_marks(samples)
        self._items.extend(samples)
        self.put_total += len(samples)
        self._grown.set()

    def put_marks(self, samples) -> int:
        """Queue quality marks without waiting (see the module docstring); returns how many were not queued because
        they repeat the tag's previous mark past the bound."""
        items = self._items
        if len(items) < self.maxsize:
            kept = samples
        else:
            marks = self._marks
            kept = []
            for s in samples:
                if marks.get(s.key) == s.quality:
                    continue
                marks[s.key] = s.quality
                kept.append(s)
        if kept:
            items.extend(kept)
            self.put_total += len(kept)
            self._grown.set()
        return len(samples) - len(kept)

    def _forget_marks(self, samples) -> None:
        """Newer samples of these tags follow their marks: a later mark is a change again, not a repeat."""
        pop = self._marks.pop
        for s in samples:
            pop(s.key, None)

    def put_marker(self, callback) -> None:
        """Call ``callback()`` once every sample put so far has been taken and committed (see ``due_markers``)."""
        self._markers.append((self.put_total, callback))
        self._grown.set()

    def due_markers(self, committed_total: int) -> list:
        markers = self._markers
        due = []
        while markers and markers[0][0] <= committed_total:
            due.append(markers.popleft()[1])
        return due

    def has_markers(self) -> bool:
        return bool(self._markers)

    def put_nowait(self, samples) -> None:
        if self._marks:
            self._forget_marks(samples)
        self._items.extend(samples)
        self.put_total += len(samples)
        self._grown.set()

    async def get_batch(self, max_n: int, max_wait: float) -> list:
        """Up to ``max_n`` samples: returns when ``max_n`` are available or ``max_wait`` seconds have passed."""
        deadline = time.monotonic() + max_wait
        while len(self._items) < max_n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._grown.clear()
            try:
                await asyncio.wait_for(self._grown.wait(), remaining)
            except TimeoutError:
                break
        return self.take(max_n)

    def take(self, max_n: int) -> list:
        items = self._items
        n = min(max_n, len(items))
        if n == len(items):
            batch = list(items)
            items.clear()
        else:
            batch = [items.popleft() for _ in range(n)]
        if n:
            self.taken_total += n
            self._shrunk.set()
            if self._marks and len(items) < self.maxsize:
                self._marks.clear()  # below the bound again: marks are queued as usual until it is full again
        return batch
