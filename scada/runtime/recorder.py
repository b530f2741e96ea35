"""What goes to the historian: a sample is recorded when its value moved beyond the tag's deadband since the last
recorded value, when its quality changed, or when the tag's maximum interval has passed since the last record."""

from __future__ import annotations


class Recorder:
    def __init__(self):
        self.rules: dict[int, tuple[float, float]] = {}  # key -> (absolute deadband, max interval s)
        self.last: dict[int, tuple[float | None, int, float]] = {}  # key -> (value, quality, ts) last recorded

    def configure(self, tags) -> None:
        self.rules = {t.key: (t.deadband, t.max_interval_s) for t in tags}

    def filter(self, samples) -> list[tuple]:
        """Historian rows (ts, key, value, quality) for the samples that must be recorded."""
        rows = []
        rules, last = self.rules, self.last
        for s in samples:
            rule = rules.get(s.key)
            previous = last.get(s.key)
            if rule is not None and previous is not None:
                deadband, max_interval = rule
                pv, pq, pts = previous
                if (pq == s.quality and s.ts - pts < max_interval
                        and (pv is None) == (s.value is None)
                        and (s.value is None or abs(s.value - pv) <= deadband)):
                    continue
            last[s.key] = (s.value, s.quality, s.ts)
            rows.append((s.ts, s.key, s.value, s.quality))
        return rows
