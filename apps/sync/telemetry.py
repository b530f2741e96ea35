"""Telemetry forwarding by watermark: the hook the SCADA historian plugs into (no outbox row per sample).

Edge side: a stream is a reader ``read(after, limit) -> (rows, watermark)`` returning the samples strictly after the
watermark ``after`` (None at first) in watermark order, at most ``limit``, and the watermark of the last row. The
watermark must be a strictly increasing, JSON-serialisable value the reader understands (e.g. "<time iso>|<row id>").
The forwarder sends each chunk gzip-compressed to ``POST /api/v1/sync/telemetry`` and stores the new watermark in
SyncState.watermarks only after the hub acknowledged it, so a lost answer re-sends the same chunk (at-least-once).

Hub side: a sink ``write(edge_id, rows) -> int`` stores a chunk idempotently (upsert on its natural key, e.g.
(edge, tag, time)), so a re-sent chunk changes nothing.

Register both from the owning app's ``AppConfig.ready()``::

    from apps.sync import telemetry
    telemetry.register_stream("scada.samples", read=historian.read_after, write=historian.store_remote)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

log = logging.getLogger(__name__)


@dataclass
class Stream:
    name: str
    read: Callable | None
    write: Callable | None
    chunk: int = 5000


_streams: dict[str, Stream] = {}


def register_stream(name: str, read: Callable | None = None, write: Callable | None = None, chunk: int = 5000):
    _streams[name] = Stream(name, read, write, chunk)
    return _streams[name]


def unregister_stream(name: str) -> None:
    _streams.pop(name, None)


def stream(name: str) -> Stream | None:
    return _streams.get(name)


def forward_all(client, max_chunks: int = 100) -> int:
    """Send every readable stream's samples after its watermark; returns the number of rows acknowledged."""
    from apps.sync.models import SyncState

    sent = 0
    for s in list(_streams.values()):
        if s.read is None:
            continue
        for _ in range(max_chunks):
            st = SyncState.objects.get(key="default")
            after = (st.watermarks or {}).get(s.name)
            rows, mark = s.read(after, s.chunk)
            if not rows:
                break
            client.push_telemetry(s.name, rows, after, mark)
            with transaction.atomic():
                st = SyncState.objects.select_for_update().get(key="default")
                st.watermarks = {**(st.watermarks or {}), s.name: mark}
                st.save(update_fields=["watermarks"])
            sent += len(rows)
            if len(rows) < s.chunk:
                break
    return sent
