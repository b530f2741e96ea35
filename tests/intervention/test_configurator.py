"""Each configurator rule has a test that fails if the rule is removed."""

from decimal import Decimal

import pytest

from apps.intervention import configurator
from apps.intervention.configurator import Conditions
from tests.intervention.helpers import GOOD, catalogue
from tests.wells import factories as f

pytestmark = pytest.mark.django_db

COND = dict(min_id_mm=Decimal("58.75"), restriction_label="X nipple", wire_size_mm=Decimal("2.34"),
            whp_kpa=Decimal("10000"), lubricator_length_m=Decimal("10"))


def run(keys, **over):
    cat = catalogue()
    return configurator.check([cat[k] for k in keys], Conditions(**{**COND, **over}))


def codes(report, severity=None):
    return {x["code"] for x in report.findings if severity is None or x["severity"] == severity}


def test_good_string_has_no_error_or_warning():
    report = run(GOOD)
    assert report.ok and codes(report) == {"totals"}
    assert report.totals["length_m"] == pytest.approx(0.3 + 0.3 + 1.524 * 2 + 1.2 + 0.3 + 0.5)
    assert report.totals["weight_kg"] == pytest.approx(2 + 2.5 + 40 + 12 + 2 + 4)
    assert report.totals["max_od_mm"] == 45.0


def test_od_against_smallest_restriction_minus_clearance(settings):
    settings.TOOLSTRING_OD_CLEARANCE_MM = 2.0
    report = run([*GOOD, "wide"])  # 57 mm < 58.75 mm restriction, but above 58.75 - 2 mm clearance
    (finding,) = [x for x in report.findings if x["code"] == "max_od"]
    assert finding["severity"] == "error" and finding["components"] == [7]
    settings.TOOLSTRING_OD_CLEARANCE_MM = 1.0
    assert "max_od" not in codes(run([*GOOD, "wide"]))


def test_od_uses_the_wells_completion_restrictions(world):
    well = f.well(world)
    f.completion(world, wellbore=f.wellbore(world, well=well), restrictions=((2500, Decimal("46.00")),))
    report = run(GOOD, min_id_mm=None, well=well)
    (finding,) = [x for x in report.findings if x["code"] == "max_od"]
    assert "46.00" in finding["message"] and finding["components"] == [6]  # the 45 mm pulling tool > 44 mm

def test_connections_must_make_up():
    cat = catalogue()
    tools = [cat[k] for k in GOOD]
    cat["jar"].bottom_connection = "1-1/16-10 UN"
    report = configurator.check(tools, Conditions(**COND))
    (finding,) = [x for x in report.findings if x["code"] == "connections"]
    assert finding["severity"] == "error" and finding["components"] == [4, 5]
    cat["jar"].bottom_connection, cat["jar"].bottom_gender = cat["kj"].top_connection, "box"  # box into box
    report = configurator.check(tools, Conditions(**COND))
    assert [x["components"] for x in report.findings if x["code"] == "connections"] == [[4, 5]]


def test_rope_socket_on_top():
    report = run(["stem", "jar", "kj", "gs"])
    assert [x["components"] for x in report.findings if x["code"] == "rope_socket_top"] == [[0]]
    assert "rope_socket_top" in codes(run(["rs", "swivel", "stem", "rs"]), "error")


def test_swivel_below_non_rotating_rope_socket_is_a_warning():
    report = run(["rs", "stem", "jar", "kj", "gs"])
    (finding,) = [x for x in report.findings if x["code"] == "swivel_below_non_rotating"]
    assert finding["severity"] == "warning" and finding["components"] == [0, 1]
    assert report.ok  # a warning does not block


def test_jars_below_the_stem():
    report = run(["rs", "swivel", "jar", "stem", "kj", "gs"])
    (finding,) = [x for x in report.findings if x["code"] == "jars_below_stem"]
    assert finding["severity"] == "error" and finding["components"] == [2]


def test_stem_weight_overcomes_wellhead_pressure(settings):
    settings.TOOLSTRING_WEIGHT_SAFETY_FACTOR = 1.0
    # 3.18 mm wire at 50 MPa: 50e6 x pi x 0.00318^2 / 4 = 397.1 N = 40.5 kg > 40 kg of stem
    report = run(GOOD, wire_size_mm=Decimal("3.18"), whp_kpa=Decimal("50000"))
    (finding,) = [x for x in report.findings if x["code"] == "stem_weight"]
    assert finding["severity"] == "error" and finding["components"] == [2, 3]
    assert report.totals["stem_weight_needed_kg"] == pytest.approx(40.49, abs=0.01)
    assert "stem_weight" not in codes(run(GOOD, wire_size_mm=Decimal("3.18"), whp_kpa=Decimal("48000")))


def test_total_length_fits_the_lubricator():
    report = run(GOOD, lubricator_length_m=Decimal("5.6"))  # the string is 5.648 m long
    assert "lubricator" in codes(report, "error")
    assert "lubricator" not in codes(run(GOOD, lubricator_length_m=Decimal("5.65")))
