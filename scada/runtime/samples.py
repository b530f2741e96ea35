"""The one sample stream every driver produces and every consumer (historian, alarms, live HMI) reads."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from scada.choices import Quality

GOOD, UNCERTAIN, BAD, STALE = int(Quality.GOOD), int(Quality.UNCERTAIN), int(Quality.BAD), int(Quality.STALE)
LIVE_MAX_AGE_S = 300.0  # default of settings.SCADA_LIVE_MAX_AGE_S


@dataclass(slots=True)
class Sample:
    """One value of one tag.

    - ``key``: the tag's compact integer key (Tag.key), never the UUID;
    - ``ts``: source time as Unix epoch seconds (UTC, float);
    - ``value``: engineering value (float; bools are 0.0/1.0), None when the quality is Bad;
    - ``quality``: scada.choices.Quality (0 Good, 1 Uncertain, 2 Bad, 3 Stale);
    - ``historical``: backfill (a row of an exported file, an HTTP ingest point or MQTT JSON value stamped too long ago
      (``mark_historical``), a Sparkplug metric flagged ``is_historical``, i.e. stored and forwarded): it goes to the
      historian only. The gateway keeps it out of the current values and the sample hooks (alarm engine, live HMI), so
      an old value never raises or clears an alarm now nor shows as current.
    """

    key: int
    ts: float
    value: float | None
    quality: int = GOOD
    historical: bool = False


def now() -> float:
    return time.time()


def live_max_age() -> float:
    """``settings.SCADA_LIVE_MAX_AGE_S`` (its older name ``SCADA_CSV_LIVE_MAX_AGE_S`` is read as a fallback there)."""
    from django.conf import settings

    return float(getattr(settings, "SCADA_LIVE_MAX_AGE_S", LIVE_MAX_AGE_S))


def mark_historical(samples: list[Sample], newest_live: dict[int, float], now: float | None = None,
                    max_age: float | None = None) -> int:
    """The live-or-history rule of the sources that carry the source's own timestamp (CSV rows, HTTP ingest points,
    MQTT JSON values); returns how many samples stay live.

    A sample is flagged ``historical`` (historian only) when its time is more than ``max_age`` seconds
    (``SCADA_LIVE_MAX_AGE_S``) from ``now`` (either way: a clock far ahead is no more "now" than one far behind), or
    older than the newest value the same source already fed live for its tag (``newest_live``: tag key -> time,
    kept by the caller and updated here), so a buffer flushed after an outage, a late file or a redelivered message
    never raises or clears an alarm now and never moves a current value back. Samples are taken in the order given
    (a source's own order); equal times stay live (messages without a timestamp all carry their receive time).

    Not for sources whose timestamp is the time of the last change rather than of the reading: an OPC-UA
    subscription's first notification and a Sparkplug birth carry the current state with an old timestamp; Modbus
    stamps the poll. Those decide for themselves (Sparkplug ``is_historical``)."""
    if now is None:
        now = time.time()
    if max_age is None:
        max_age = live_max_age()
    earliest, latest = now - max_age, now + max_age
    newest = newest_live.get
    live = 0
    for s in samples:
        if s.historical:
            continue
        ts = s.ts
        if earliest <= ts <= latest and ts >= newest(s.key, -math.inf):
            newest_live[s.key] = ts
            live += 1
        else:
            s.historical = True
    return live
