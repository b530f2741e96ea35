"""The one sample stream every driver produces and every consumer (historian, alarms, live HMI) reads."""

from __future__ import annotations

import time
from dataclasses import dataclass

from scada.choices import Quality

GOOD, UNCERTAIN, BAD, STALE = int(Quality.GOOD), int(Quality.UNCERTAIN), int(Quality.BAD), int(Quality.STALE)


@dataclass(slots=True)
class Sample:
    """One value of one tag.

    - ``key``: the tag's compact integer key (Tag.key), never the UUID;
    - ``ts``: source time as Unix epoch seconds (UTC, float);
    - ``value``: engineering value (float; bools are 0.0/1.0), None when the quality is Bad;
    - ``quality``: scada.choices.Quality (0 Good, 1 Uncertain, 2 Bad, 3 Stale);
    - ``historical``: backfill (a row of an exported file, a Sparkplug metric flagged ``is_historical``, i.e. stored
      and forwarded): it goes to the historian only. The gateway keeps it out of the current values and the sample
      hooks (alarm engine, live HMI), so an old value never raises or clears an alarm now nor shows as current.
    """

    key: int
    ts: float
    value: float | None
    quality: int = GOOD
    historical: bool = False


def now() -> float:
    return time.time()
