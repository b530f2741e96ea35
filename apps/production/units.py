"""Units. Values are stored in one canonical (SI-based) set and converted for display with pint:

=============  ==========  ============  ===========
quantity       canonical   field         metric
=============  ==========  ============  ===========
liquid rate    m³/d        bbl/d         m³/d
gas rate       m³/d (std)  Mscf/d        m³/d
liquid volume  m³          bbl           m³
gas volume     m³ (std)    Mscf          m³
pressure       kPa         psi           kPa
temperature    °C          °F            °C
=============  ==========  ============  ===========

Volumes are at the standard conditions stated on each record (default 15 °C and 101.325 kPa).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

import pint

CANONICAL = {
    "liquid_rate": "m**3/day",
    "gas_rate": "m**3/day",
    "liquid_volume": "m**3",
    "gas_volume": "m**3",
    "pressure": "kPa",
    "temperature": "degC",
}
SYSTEMS = {
    "field": {"liquid_rate": "oil_barrel/day", "gas_rate": "Mscf/day", "liquid_volume": "oil_barrel",
              "gas_volume": "Mscf", "pressure": "psi", "temperature": "degF"},
    "metric": dict(CANONICAL),
}
LABELS = {"oil_barrel/day": "bbl/d", "Mscf/day": "Mscf/d", "oil_barrel": "bbl", "Mscf": "Mscf", "psi": "psi",
          "degF": "°F", "m**3/day": "m³/d", "m**3": "m³", "kPa": "kPa", "degC": "°C"}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry()
    ureg.define("Mscf = 1000 * foot ** 3")
    return ureg


def convert(value, quantity: str, system: str, digits: int = 3):
    """``value`` (canonical unit of ``quantity``) in the unit of ``system``; None stays None."""
    if value is None:
        return None
    ureg = registry()
    target = SYSTEMS[system][quantity]
    result = ureg.Quantity(float(value), CANONICAL[quantity]).to(target).magnitude
    return round(result, digits)


def to_canonical(value, quantity: str, system: str) -> Decimal | None:
    if value is None:
        return None
    ureg = registry()
    result = ureg.Quantity(float(value), SYSTEMS[system][quantity]).to(CANONICAL[quantity]).magnitude
    return Decimal(str(round(result, 6)))


def label(quantity: str, system: str) -> str:
    return LABELS[SYSTEMS[system][quantity]]


def display(values: dict[str, tuple[object, str]], system: str) -> dict:
    """{name: (canonical value, quantity)} -> {name: {"value", "unit"}} in ``system``."""
    return {name: {"value": convert(v, q, system), "unit": label(q, system)} for name, (v, q) in values.items()}
