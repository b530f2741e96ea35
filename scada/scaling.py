"""Raw <-> engineering conversion, including 4-20 mA loops with NE43 fault detection."""

from __future__ import annotations

import math

from scada.choices import Scaling
from scada.runtime.samples import BAD, GOOD

NE43_LOW_MA = 3.6
NE43_HIGH_MA = 21.0


def to_engineering(tag, raw: float) -> tuple[float | None, int]:
    """(value, quality) of a raw reading. 4-20 mA: a loop current below 3.6 mA or above 21 mA (NAMUR NE43) is a
    sensor/loop fault: Bad with no value. Between 20 and 21 mA (or 3.6 and 4 mA) the value is extrapolated."""
    if raw is None or (isinstance(raw, float) and not math.isfinite(raw)):
        return None, BAD
    if tag.scaling == Scaling.NONE:
        return float(raw), GOOD
    if tag.scaling == Scaling.LINEAR:
        span = tag.raw_high - tag.raw_low
        return tag.eng_low + (raw - tag.raw_low) / span * (tag.eng_high - tag.eng_low), GOOD
    ma = milliamps(tag, raw)
    if ma < NE43_LOW_MA or ma > NE43_HIGH_MA:
        return None, BAD
    return tag.eng_low + (ma - 4.0) / 16.0 * (tag.eng_high - tag.eng_low), GOOD


def milliamps(tag, raw: float) -> float:
    raw_low = 4000.0 if tag.raw_low is None else tag.raw_low
    raw_high = 20000.0 if tag.raw_high is None else tag.raw_high
    return 4.0 + (raw - raw_low) / (raw_high - raw_low) * 16.0


def to_raw(tag, value: float) -> float:
    """The raw value to write for an engineering value (inverse of to_engineering)."""
    if tag.scaling == Scaling.NONE:
        return value
    fraction = (value - tag.eng_low) / (tag.eng_high - tag.eng_low)
    if tag.scaling == Scaling.LINEAR:
        return tag.raw_low + fraction * (tag.raw_high - tag.raw_low)
    raw_low = 4000.0 if tag.raw_low is None else tag.raw_low
    raw_high = 20000.0 if tag.raw_high is None else tag.raw_high
    return raw_low + fraction * (raw_high - raw_low)
