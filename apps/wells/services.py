"""Business rules of the wells app (transactions live here)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.wells.models import SurveyStation, Trajectory, Well
from apps.wells.survey import Point, minimum_curvature

Q3 = Decimal("0.001")


def _d(value: float) -> Decimal:
    return Decimal(str(round(value, 3))).quantize(Q3)


def _tie_on(trajectory: Trajectory, first_station=None) -> Point:
    tie = Point(md=float(trajectory.tie_on_md), inc=0.0, azi=0.0, tvd=float(trajectory.tie_on_tvd),
                ns=float(trajectory.tie_on_ns), ew=float(trajectory.tie_on_ew))
    if first_station is not None and float(first_station.md) == tie.md:
        tie = Point(md=tie.md, inc=float(first_station.inclination), azi=float(first_station.azimuth), tvd=tie.tvd,
                    ns=tie.ns, ew=tie.ew)
    return tie


def compute_station(station: SurveyStation) -> None:
    """Set TVD/N-S/E-W/DLS of one (unsaved) station from the station above it, or from the tie-on point."""
    above = (SurveyStation.objects.filter(trajectory_id=station.trajectory_id, md__lt=station.md)
             .exclude(pk=station.pk).order_by("-md").first())
    if above is None or above.tvd is None:
        prev = _tie_on(station.trajectory, station)
    else:
        prev = Point(md=float(above.md), inc=float(above.inclination), azi=float(above.azimuth),
                     tvd=float(above.tvd), ns=float(above.ns), ew=float(above.ew))
    if float(station.md) < prev.md:
        station.tvd = station.ns = station.ew = station.dls = None
        return
    (point,) = minimum_curvature([(station.md, station.inclination, station.azimuth)], prev)
    station.tvd, station.ns, station.ew, station.dls = _d(point.tvd), _d(point.ns), _d(point.ew), _d(point.dls)


@transaction.atomic
def recompute_trajectory(trajectory: Trajectory) -> int:
    """Recompute TVD, N/S, E/W and DLS of every station of ``trajectory`` (minimum curvature); returns the count."""
    stations = list(SurveyStation.objects.select_for_update().filter(trajectory=trajectory).order_by("md"))
    stations = [s for s in stations if float(s.md) >= float(trajectory.tie_on_md)]
    tie = _tie_on(trajectory, stations[0] if stations else None)
    points = minimum_curvature([(s.md, s.inclination, s.azimuth) for s in stations], tie)
    for station, point in zip(stations, points, strict=True):
        new = (_d(point.tvd), _d(point.ns), _d(point.ew), _d(point.dls))
        if (station.tvd, station.ns, station.ew, station.dls) != new:
            station.tvd, station.ns, station.ew, station.dls = new
            station.save(update_fields=["tvd", "ns", "ew", "dls"])
    return len(stations)


@transaction.atomic
def make_definitive(trajectory: Trajectory) -> Trajectory:
    """Mark ``trajectory`` definitive and demote any other definitive trajectory of the same wellbore."""
    for other in Trajectory.objects.select_for_update().filter(wellbore=trajectory.wellbore_id, definitive=True
                                                                ).exclude(pk=trajectory.pk):
        other.definitive = False
        other.save(update_fields=["definitive"])
    trajectory.definitive = True
    trajectory.save(update_fields=["definitive"])
    return trajectory


@transaction.atomic
def change_status(well: Well, status: str, reason: str = "") -> Well:
    """Change a well's status with a reason (the history row is written by ``Well.save``)."""
    well.status = status
    well._status_reason = reason
    well.full_clean()
    well.save()
    return well
