"""Unit normalisation with pint (never a hand-written table), with the oilfield units pint lacks."""

from __future__ import annotations

from functools import lru_cache

import pint

ALIASES = {
    "psig": "psi", "psia": "psi", "bbl/day": "bbl/d", "bpd": "bbl/d", "bopd": "bbl/d", "bwpd": "bbl/d",
    "mscf/d": "Mscf/d", "mscfd": "Mscf/d", "mmscf/d": "MMscf/d", "mmscfd": "MMscf/d", "degf": "degF",
    "degc": "degC", "°f": "degF", "°c": "degC", "f": "degF", "c": "degC", "m3/d": "m**3/d", "sm3/d": "m**3/d",
    "a": "A", "hz": "Hz", "%": "percent", "pct": "percent", "kpa": "kPa", "mpa": "MPa",
}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    # pint's own "bbl" is the 31.5-gallon US liquid barrel: the oilfield barrel (42 gal) replaces it on purpose.
    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True, on_redefinition="ignore")
    ureg.define("bbl = 42 * gallon = oil_bbl")
    ureg.define("scf = foot ** 3")
    ureg.define("Mscf = 1000 * scf")
    ureg.define("MMscf = 1000000 * scf")
    ureg.define("klbs = 1000 * pound")
    return ureg


def parse(unit: str):
    text = (unit or "").strip()
    text = ALIASES.get(text.lower(), text)
    if text in ("", "1", "none", "-"):
        return registry().dimensionless
    return registry().parse_units(text)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit``; raises ValueError when the units do not convert."""
    try:
        source, target = parse(from_unit), parse(to_unit)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, TypeError) as exc:
        raise ValueError(f"Unknown unit {from_unit!r}.") from exc
    if source == target:
        return float(value)
    try:
        return float(registry().Quantity(value, source).to(target).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise ValueError(f"{from_unit!r} does not convert to the tag's unit {to_unit!r}.") from exc
