"""The gateway's live publisher: coalesces the latest value of each changed tag and sends ONE channel-layer message per
HMI group (one group per site) per tick (~50 ms), never one ``group_send`` per sample. Alarm transitions are pushed
separately by scada.alarms.services on commit. It runs in the gateway process; the web process's /ws/hmi/ consumers
receive it through channels-redis. It gets live samples only: the gateway keeps historical ones (backfill) out of the
hooks, so an old value never reaches a screen as current.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging

from django.conf import settings

log = logging.getLogger(__name__)


def site_group(site_id) -> str:
    return f"hmi-site-{site_id}"


class LivePublisher:
    def __init__(self, tick_s: float | None = None):
        self.tick_s = tick_s if tick_s is not None else getattr(settings, "HMI_PUBLISH_TICK_MS", 50) / 1000.0
        self.pending: dict[int, tuple] = {}  # tag key -> (value, quality, ts)
        self.tags: dict[int, tuple[str, object]] = {}  # key -> (tag name, site id)
        self._task: asyncio.Task | None = None
        self._signature = None
        self.sent_messages = 0

    # -- inputs --------------------------------------------------------------------------------------------------
    async def __call__(self, samples, gateway) -> None:
        for s in samples:
            self.pending[s.key] = (s.value, s.quality, s.ts)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(gateway))

    # -- the tick ------------------------------------------------------------------------------------------------
    def _load_tags(self) -> dict:
        from scada.models import Tag

        return {key: (name, site) for key, name, site in Tag.objects.values_list("key", "name", "device__site_id")}

    async def _run(self, gateway) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        while True:
            await asyncio.sleep(self.tick_s)
            if not self.pending:
                continue
            try:
                await self.flush(layer, gateway)
            except Exception:  # noqa: BLE001 - a down Redis must not stop acquisition; values are re-sent next tick
                log.exception("live publisher flush failed")

    async def flush(self, layer, gateway=None) -> int:
        batch, self.pending = self.pending, {}
        try:
            return await self._send(layer, batch, gateway)
        except Exception:
            # Keep what could not be sent (a newer value that arrived meanwhile wins) for the next tick.
            self.pending = {**batch, **self.pending}
            raise

    async def _send(self, layer, batch: dict, gateway=None) -> int:
        missing = [k for k in batch if k not in self.tags]
        if missing:
            self.tags = await (gateway.db_call(self._load_tags) if gateway else asyncio.to_thread(self._load_tags))
        groups: dict = collections.defaultdict(list)
        for key, (value, quality, ts) in batch.items():
            meta = self.tags.get(key)
            if meta is None:
                continue
            groups[meta[1]].append({"tag": meta[0], "value": value, "quality": quality, "ts": ts})
        sent = 0
        for site_id, values in groups.items():
            # "raw" is the values already encoded once: a client watching the whole site forwards it as-is instead
            # of every consumer re-encoding the same list.
            await layer.group_send(site_group(site_id), {"type": "hmi.values", "values": values,
                                                         "raw": json.dumps(values, separators=(",", ":"))})
            sent += 1
        self.sent_messages += sent
        return sent


publisher = LivePublisher()
