"""What goes to the historian: a sample is recorded when its value moved beyond the tag's deadband since the last
recorded value, when its quality changed, or when the tag's maximum interval has passed since the last record."""

from __future__ import annotations


class Recorder:
    def __init__(self):
        self.rules: dict[int, tuple[float, float]] = {}  # key -> (absolute deadband, max interval s)
        self.last: dict[int, tuple] = {}  # key -> last recorded row (ts, key, value, quality)

    def configure(self, tags) -> None:
        self.rules = {t.key: (t.deadband, t.max_interval_s) for t in tags}

    def filter(self, samples) -> list[tuple]:
        """Historian rows (ts, key, value, quality) for the samples that must be recorded (hot path: ~1 us/sample)."""
        rows: list[tuple] = []
        append = rows.append
        rules_get = self.rules.get
        last = self.last
        last_get = last.get
        for s in samples:
            key, value, quality, ts = s.key, s.value, s.quality, s.ts
            previous = last_get(key)
            if previous is not None:
                rule = rules_get(key)
                if rule is not None and previous[3] == quality and ts - previous[0] < rule[1]:
                    pv = previous[2]
                    if value is None:
                        if pv is None:
                            continue
                    elif pv is not None and abs(value - pv) <= rule[0]:
                        continue
            row = (ts, key, value, quality)
            last[key] = row
            append(row)
        return rows
