"""Current values: in memory for the hooks and the HMI publisher, persisted to scada_currentvalue for the API."""

from __future__ import annotations

from datetime import UTC, datetime

from scada.runtime.samples import BAD, STALE


class CurrentValueStore:
    def __init__(self):
        self.values: dict[int, tuple[float | None, int, float]] = {}  # key -> (value, quality, ts)
        self.received: dict[int, float] = {}  # key -> monotonic-ish wall time of the last sample
        self.dirty: set[int] = set()

    def update(self, samples, received_at: float) -> None:
        latest = {s.key: (s.value, s.quality, s.ts) for s in samples}
        self.values.update(latest)
        self.received.update(dict.fromkeys(latest, received_at))
        self.dirty.update(latest)

    def get(self, key: int):
        return self.values.get(key)

    def stale_keys(self, limits: dict[int, float], now: float) -> list[int]:
        """Tags whose last sample is older than their limit (seconds) and not already Stale/Bad."""
        out = []
        for key, limit in limits.items():
            current = self.values.get(key)
            at = self.received.get(key)
            if current is None or at is None:
                continue
            if current[1] not in (STALE, BAD) and now - at > limit:
                out.append(key)
        return out

    def take_dirty(self) -> dict[int, tuple]:
        keys, self.dirty = self.dirty, set()
        return {k: self.values[k] for k in keys if k in self.values}


def persist(rows: dict[int, tuple]) -> int:
    """Upsert current values (runs in the gateway's database thread)."""
    from scada.models import CurrentValue, Tag

    if not rows:
        return 0
    ids = dict(Tag.objects.filter(key__in=rows.keys()).values_list("key", "id"))
    objs = [CurrentValue(tag_id=ids[key], tag_key=key, value=value, quality=quality,
                         ts=datetime.fromtimestamp(ts, UTC))
            for key, (value, quality, ts) in rows.items() if key in ids]
    CurrentValue.objects.bulk_create(objs, update_conflicts=True, unique_fields=["tag"],
                                     update_fields=["value", "quality", "ts", "updated_at"])
    return len(objs)
