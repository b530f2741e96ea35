"""Minimum curvature against a hand-worked example.

Well path: vertical to 500 m MD; a 100 m build from 0° to 90° heading east (azimuth 90°); then a 100 m horizontal turn
from east to south (azimuth 90° -> 180°) at 90° inclination.

Each 100 m leg turns the hole by 90°, so it is a quarter circle of radius R = 100 / (pi/2) = 63.662 m:
- build: TVD gains R (563.662 m), the hole moves R east (63.662 m E);
- turn: TVD unchanged, the hole moves R further east (127.324 m E) and R south (63.662 m S).
Dogleg severity of both legs: 90° per 100 m = 27°/30 m. With the balanced-tangential method (no ratio factor) the
build would give TVD 550 m instead, so these figures check the ratio factor too.
"""

from decimal import Decimal

import pytest

from apps.wells import services
from apps.wells.models import SurveyStation
from apps.wells.survey import Point, dogleg, minimum_curvature, ratio_factor
from tests.wells import factories as f

EXPECTED = [  # md, inc, azi, tvd, ns, ew, dls
    (500, 0, 0, 500.0, 0.0, 0.0, 0.0),
    (600, 90, 90, 563.662, 0.0, 63.662, 27.0),
    (700, 90, 180, 563.662, -63.662, 127.324, 27.0),
]


def test_pure_minimum_curvature_matches_hand_worked_example():
    points = minimum_curvature([(md, inc, azi) for md, inc, azi, *_ in EXPECTED])
    for point, (_md, _i, _a, tvd, ns, ew, dls) in zip(points, EXPECTED, strict=True):
        assert point.tvd == pytest.approx(tvd, abs=1e-3)
        assert point.ns == pytest.approx(ns, abs=1e-3)
        assert point.ew == pytest.approx(ew, abs=1e-3)
        assert point.dls == pytest.approx(dls, abs=1e-6)


def test_ratio_factor_and_dogleg():
    assert ratio_factor(0.0) == 1.0
    assert ratio_factor(dogleg(0, 0, 90, 90)) == pytest.approx(4 / 3.141592653589793)
    # a straight inclined tangent: no dogleg, displacement = MD x sin(inc)
    (p,) = minimum_curvature([(1100, 30, 0)], Point(md=1000, inc=30, azi=0, tvd=900))
    assert p.dls == 0 and p.ns == pytest.approx(50.0) and p.tvd == pytest.approx(900 + 100 * 3 ** 0.5 / 2)


def test_stations_out_of_md_order_are_refused():
    with pytest.raises(ValueError):
        minimum_curvature([(100, 1, 0), (90, 1, 0)])


def test_api_computes_and_recomputes_stations(world, api_for):
    trajectory = f.trajectory(world)
    client = api_for("operator")
    # entered out of order: the 600 m station first, then the ones above it
    for md, inc, azi, *_ in (EXPECTED[2], EXPECTED[0]):
        r = client.post("/api/v1/wells/survey-stations/", {"trajectory": str(trajectory.pk), "md": md,
                                                           "inclination": inc, "azimuth": azi}, format="json")
        assert r.status_code == 201, r.json()
    r = client.post("/api/v1/wells/survey-stations/", {"trajectory": str(trajectory.pk), "md": 600,
                                                       "inclination": 90, "azimuth": 90}, format="json")
    assert r.status_code == 201
    rows = list(SurveyStation.objects.filter(trajectory=trajectory).order_by("md"))
    for row, (_md, _i, _a, tvd, ns, ew, dls) in zip(rows, EXPECTED, strict=True):
        assert (row.tvd, row.ns, row.ew, row.dls) == (
            Decimal(str(tvd)).quantize(Decimal("0.001")), Decimal(str(ns)).quantize(Decimal("0.001")),
            Decimal(str(ew)).quantize(Decimal("0.001")), Decimal(str(dls)).quantize(Decimal("0.001")))
    # deleting the build station recomputes the one below it (a 200 m leg from vertical to 90/180)
    assert client.delete(f"/api/v1/wells/survey-stations/{rows[1].pk}/").status_code == 403  # operators may not
    assert api_for("admin").delete(f"/api/v1/wells/survey-stations/{rows[1].pk}/").status_code == 204
    rows[2].refresh_from_db()
    assert rows[2].dls == Decimal("13.500")


def test_recompute_service_fixes_stale_rows(world):
    trajectory = f.trajectory(world)
    for md, inc, azi, *_ in EXPECTED:
        SurveyStation.objects.create(trajectory=trajectory, md=md, inclination=inc, azimuth=azi)
    SurveyStation.objects.filter(trajectory=trajectory).update(tvd=None, ns=None, ew=None, dls=None)
    assert services.recompute_trajectory(trajectory) == 3
    last = SurveyStation.objects.get(trajectory=trajectory, md=700)
    assert (last.tvd, last.ns, last.ew) == (Decimal("563.662"), Decimal("-63.662"), Decimal("127.324"))


def test_one_definitive_trajectory_per_wellbore(world, api_for):
    first = f.trajectory(world, definitive=True)
    r = api_for("operator").post("/api/v1/wells/trajectories/", {"wellbore": str(first.wellbore_id), "name": "Gyro",
                                                                  "definitive": True}, format="json")
    assert r.status_code == 400
    assert r.json()["details"][0]["field"] == "definitive"
    # a second, non-definitive trajectory is fine
    r = api_for("operator").post("/api/v1/wells/trajectories/", {"wellbore": str(first.wellbore_id), "name": "Gyro",
                                                                  "definitive": False}, format="json")
    assert r.status_code == 201


def test_ui_station_create_recomputes_the_stations_below(world, personas, client):
    trajectory = f.trajectory(world)
    for md, inc, azi, *_ in (EXPECTED[0], EXPECTED[2]):
        SurveyStation.objects.create(trajectory=trajectory, md=md, inclination=inc, azimuth=azi)
    client.force_login(personas["operator"])
    response = client.post("/wells/survey-stations/new/", {"trajectory": str(trajectory.pk), "md": "600",
                                                           "inclination": "90", "azimuth": "90"})
    assert response.status_code == 302
    last = SurveyStation.objects.get(trajectory=trajectory, md=700)
    assert (last.tvd, last.ew, last.dls) == (Decimal("563.662"), Decimal("127.324"), Decimal("27.000"))
