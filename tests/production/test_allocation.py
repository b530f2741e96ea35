"""Back-allocation: allocated volumes reconcile exactly with the meter; edge cases."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.production import services
from apps.production.models import AllocationLine, AllocationRun, DailyWellProduction, Meter, MeterReading, WellTest
from tests.wells import factories as f

pytestmark = pytest.mark.django_db
D1 = dt.date(2026, 3, 1)


def setup_meter(world, wells, volume="100.000", factor="1", days=(D1,)):
    meter = Meter.objects.create(code=f"M{Meter.objects.count()}", name="LACT", site=world.site_a, phase="oil",
                                 meter_factor=Decimal(factor))
    meter.wells.set(wells)
    for day in days:
        MeterReading.objects.create(meter=meter, reading_date=day, gross_volume=Decimal(volume))
    return meter


def daily(well, hours="24", day=D1, reason=""):
    return DailyWellProduction.objects.create(well=well, prod_date=day, hours_on=Decimal(hours),
                                              downtime_reason=reason or ("" if Decimal(hours) == 24 else "other"))


def welltest(well, oil, status="validated", day=dt.date(2026, 2, 20)):
    return WellTest.objects.create(well=well, test_date=day, duration_hours=12, oil_rate_m3d=Decimal(oil),
                                   gas_rate_sm3d=Decimal(oil) * 100, water_rate_m3d=5, status=status)


def test_largest_remainder_sums_exactly():
    parts = services.largest_remainder(Decimal("100.000"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})
    assert parts == {"a": Decimal("33.334"), "b": Decimal("33.333"), "c": Decimal("33.333")}
    parts = services.largest_remainder(Decimal("10.000"), {"a": Decimal(2), "b": Decimal(1), "c": Decimal(4)})
    assert sum(parts.values()) == Decimal("10.000")
    assert parts == {"a": Decimal("2.857"), "b": Decimal("1.429"), "c": Decimal("5.714")}


def test_allocation_shares_by_rate_times_hours_and_reconciles(world):
    w1, w2, w3 = f.well(world), f.well(world), f.well(world)
    for w, oil, hours in ((w1, "50", "24"), (w2, "30", "12"), (w3, "20", "24")):
        welltest(w, oil)
        daily(w, hours)
    welltest(w1, "500", status="rejected", day=dt.date(2026, 2, 25))  # a rejected test is ignored
    welltest(w1, "999", status="pending", day=dt.date(2026, 2, 26))  # so is a pending one
    meter = setup_meter(world, [w1, w2, w3], volume="90.100", factor="0.998")
    run = services.allocate(meter, D1, D1)
    # theoretical: 50 + 30 x 12/24 + 20 = 85 m³; measured 90.100 x 0.998 = 89.9198 -> 89.920
    assert run.measured_volume == Decimal("89.920")
    assert run.theoretical_volume == Decimal("85")
    assert run.allocation_factor == Decimal("1.05788235")
    lines = {line.well_id: line for line in run.lines.all()}
    assert sum(line.allocated_volume for line in lines.values()) == run.measured_volume
    assert lines[w1.pk].allocated_volume == Decimal("52.894")  # 89.920 x 50/85 = 52.8941...
    assert lines[w2.pk].allocated_volume == Decimal("15.868")  # 15.8682...
    assert lines[w3.pk].allocated_volume == Decimal("21.158")  # 21.1576... (gets the leftover 0.001)
    assert run.complete and run.issues == []
    assert DailyWellProduction.objects.get(well=w1, prod_date=D1).allocated_oil_m3 == Decimal("52.894")


def test_rounding_three_equal_wells(world):
    wells = [f.well(world) for _ in range(3)]
    for w in wells:
        welltest(w, "10")
        daily(w)
    run = services.allocate(setup_meter(world, wells, volume="100.000"), D1, D1)
    allocated = sorted(line.allocated_volume for line in run.lines.all())
    assert allocated == [Decimal("33.333"), Decimal("33.333"), Decimal("33.334")]


def test_well_without_valid_test_is_reported_not_silently_zero(world):
    good, untested = f.well(world), f.well(world, name="NOTEST")
    welltest(good, "40")
    welltest(untested, "40", status="rejected")
    daily(good)
    daily(untested)
    run = services.allocate(setup_meter(world, [good, untested], volume="50"), D1, D1)
    line = run.lines.get(well=untested)
    assert line.status == "no_valid_test" and line.allocated_volume is None
    assert not run.complete and any("NOTEST" in issue for issue in run.issues)
    assert run.lines.get(well=good).allocated_volume == Decimal("50.000")


def test_shut_in_well_gets_zero_and_is_marked(world):
    flowing, shut = f.well(world), f.well(world)
    welltest(flowing, "40")
    welltest(shut, "40")
    daily(flowing)
    daily(shut, hours="0", reason="equipment_failure")
    run = services.allocate(setup_meter(world, [flowing, shut], volume="38.5"), D1, D1)
    assert run.lines.get(well=shut).status == "shut_in"
    assert run.lines.get(well=shut).allocated_volume == Decimal("0.000")
    assert run.lines.get(well=flowing).allocated_volume == Decimal("38.500")
    assert run.complete


def test_rerun_is_idempotent(world):
    wells = [f.well(world), f.well(world)]
    for w in wells:
        welltest(w, "10")
        daily(w)
    meter = setup_meter(world, wells, volume="7")
    first = services.allocate(meter, D1, D1)
    before = sorted(AllocationLine.objects.values_list("well_id", "allocated_volume"))
    again = services.allocate(meter, D1, D1)
    assert again.pk == first.pk and AllocationRun.objects.count() == 1
    assert sorted(AllocationLine.objects.values_list("well_id", "allocated_volume")) == before


def test_monthly_run_uses_the_latest_validated_test_of_each_day(world):
    days = [dt.date(2026, 3, d) for d in range(1, 4)]
    w1, w2 = f.well(world), f.well(world)
    welltest(w1, "10")
    welltest(w2, "10")
    welltest(w2, "40", day=days[2])  # a new test from day 3 on
    for day in days:
        daily(w1, day=day)
        daily(w2, day=day)
    run = services.allocate(setup_meter(world, [w1, w2], volume="30", days=days), days[0], days[-1])
    assert run.measured_volume == Decimal("90.000")
    # theoretical: w1 = 30, w2 = 10 + 10 + 40 = 60
    assert run.lines.get(well=w1).allocated_volume == Decimal("30.000")
    assert run.lines.get(well=w2).allocated_volume == Decimal("60.000")


def test_missing_meter_reading_is_refused_naming_the_day(world):
    w = f.well(world)
    welltest(w, "10")
    daily(w)
    meter = setup_meter(world, [w], days=())
    with pytest.raises(Exception) as err:
        services.allocate(meter, D1, D1)
    assert "2026-03-01" in str(err.value.detail)


def test_allocation_api_and_scope(world, api_for):
    w = f.well(world)
    welltest(w, "10")
    daily(w)
    meter = setup_meter(world, [w], volume="12.3456")
    body = {"meter": str(meter.pk), "period_start": "2026-03-01", "period_end": "2026-03-01"}
    assert api_for("operator").post("/api/v1/production/allocation-runs/", body, format="json").status_code == 403
    response = api_for("supervisor").post("/api/v1/production/allocation-runs/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["allocated_volume"] == 12.346
    assert api_for("supervisor").post("/api/v1/production/allocation-runs/", body, format="json").status_code == 201
    assert AllocationRun.objects.count() == 1
    other = Meter.objects.create(code="MB", name="B", site=world.site_b)
    response = api_for("supervisor").post("/api/v1/production/allocation-runs/", {**body, "meter": str(other.pk)},
                                          format="json")
    assert response.status_code == 400 and response.json()["details"][0]["field"] == "meter"


class TestAllocationRunApi(__import__("apps.core.testing", fromlist=["ApiContract"]).ApiContract):
    """The per-role contract for allocation runs: POST runs (or reruns) an allocation; runs are never edited by hand
    (PATCH/DELETE are refused for every role: 403 without the permission, 405 for administrators)."""

    endpoint = "/api/v1/production/allocation-runs/"
    model = AllocationRun
    invalid_field = "period_end"

    @staticmethod
    def meter(world, in_scope=True):
        w = f.well(world, in_scope)
        welltest(w, "10")
        daily(w)
        site = world.site_a if in_scope else world.site_b
        meter = Meter.objects.create(code=f"M{Meter.objects.count()}", name="LACT", site=site, phase="oil")
        meter.wells.set([w])
        MeterReading.objects.create(meter=meter, reading_date=D1, gross_volume=Decimal("9"))
        return meter

    def make(self, world, in_scope=True):
        return services.allocate(self.meter(world, in_scope), D1, D1)

    def create_payload(self, world):
        return {"meter": str(self.meter(world).pk), "period_start": "2026-03-01", "period_end": "2026-03-01"}

    def invalid_payload(self, world):
        return {**self.create_payload(world), "period_end": "2026-02-01"}

    def update_payload(self, world, obj):
        return {"period_end": "2026-03-02"}

    def test_update(self, world, api_for):
        obj = self.make(world)
        for role in ("supervisor", "operator", "viewer", "scada"):
            assert api_for(role).patch(self.detail(obj), {}, format="json").status_code == 403
        assert api_for("admin").patch(self.detail(obj), {}, format="json").status_code == 405

    def test_delete(self, world, api_for):
        obj = self.make(world)
        assert api_for("admin").delete(self.detail(obj)).status_code == 405

    def test_out_of_scope_change_is_404(self, world, api_for):
        pytest.skip("runs are never changed by hand")


def test_ui_run_allocation(world, personas, client):
    w = f.well(world)
    welltest(w, "10")
    daily(w)
    meter = setup_meter(world, [w], volume="5")
    client.force_login(personas["operator"])
    assert client.get("/production/allocations/new/").status_code == 403
    client.force_login(personas["supervisor"])
    response = client.post("/production/allocations/new/", {"meter": str(meter.pk), "period_start": "2026-03-01",
                                                             "period_end": "2026-03-02"})
    assert response.status_code == 200 and "No reading of meter" in response.content.decode()
    response = client.post("/production/allocations/new/", {"meter": str(meter.pk), "period_start": "2026-03-01",
                                                             "period_end": "2026-03-01"})
    run = AllocationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/production/allocations/{run.pk}/"
    assert "5.000" in client.get(response["Location"]).content.decode()
