"""Minimum-curvature survey computation (pure functions, no database).

Between two stations (MD1, I1, A1) and (MD2, I2, A2) the dogleg angle is

    cos(beta) = cos(I2 - I1) - sin(I1) sin(I2) (1 - cos(A2 - A1))

and the ratio factor RF = 2/beta * tan(beta/2) (RF = 1 when beta = 0). The increments are

    dTVD = dMD/2 (cos I1 + cos I2) RF
    dN   = dMD/2 (sin I1 cos A1 + sin I2 cos A2) RF
    dE   = dMD/2 (sin I1 sin A1 + sin I2 sin A2) RF

and the dogleg severity is beta (degrees) per 30 m of measured depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DLS_COURSE_M = 30.0


@dataclass(frozen=True)
class Point:
    md: float
    inc: float  # degrees
    azi: float  # degrees
    tvd: float = 0.0
    ns: float = 0.0
    ew: float = 0.0
    dls: float = 0.0  # degrees per 30 m


def dogleg(inc1: float, azi1: float, inc2: float, azi2: float) -> float:
    """Dogleg angle in radians between two survey directions given in degrees."""
    i1, i2 = math.radians(inc1), math.radians(inc2)
    da = math.radians(azi2 - azi1)
    cos_beta = math.cos(i2 - i1) - math.sin(i1) * math.sin(i2) * (1 - math.cos(da))
    return math.acos(max(-1.0, min(1.0, cos_beta)))


def ratio_factor(beta: float) -> float:
    if beta < 1e-9:
        return 1.0
    return 2.0 / beta * math.tan(beta / 2.0)


def next_point(prev: Point, md: float, inc: float, azi: float) -> Point:
    dmd = md - prev.md
    if dmd <= 0:
        raise ValueError(f"Stations must be in increasing MD ({md} after {prev.md}).")
    beta = dogleg(prev.inc, prev.azi, inc, azi)
    rf = ratio_factor(beta)
    i1, i2 = math.radians(prev.inc), math.radians(inc)
    a1, a2 = math.radians(prev.azi), math.radians(azi)
    half = dmd / 2.0 * rf
    return Point(
        md=md, inc=inc, azi=azi,
        tvd=prev.tvd + half * (math.cos(i1) + math.cos(i2)),
        ns=prev.ns + half * (math.sin(i1) * math.cos(a1) + math.sin(i2) * math.cos(a2)),
        ew=prev.ew + half * (math.sin(i1) * math.sin(a1) + math.sin(i2) * math.sin(a2)),
        dls=math.degrees(beta) * DLS_COURSE_M / dmd,
    )


def minimum_curvature(stations, tie_on: Point | None = None) -> list[Point]:
    """Computed points for ``stations`` [(md, inc, azi), ...] sorted by MD, starting from ``tie_on``
    (default: the surface, vertical). A first station at the tie-on MD takes the tie-on position."""
    prev = tie_on or Point(md=0.0, inc=0.0, azi=0.0)
    out = []
    for md, inc, azi in stations:
        md, inc, azi = float(md), float(inc), float(azi)
        if md == prev.md:
            point = Point(md=md, inc=inc, azi=azi, tvd=prev.tvd, ns=prev.ns, ew=prev.ew, dls=0.0)
        else:
            point = next_point(prev, md, inc, azi)
        out.append(point)
        prev = point
    return out
