import datetime as dt
from decimal import Decimal

import pytest

from apps.core.testing import ApiContract
from apps.production import units
from apps.production.models import DailyWellProduction, Meter, MeterReading, WellTest
from tests.wells import factories as f


def meter(world, in_scope=True):
    return Meter.objects.create(code=f"M{Meter.objects.count()}{in_scope}", name="Meter",
                                site=world.site_a if in_scope else world.site_b)


class TestMeterApi(ApiContract):
    endpoint = "/api/v1/production/meters/"
    model = Meter
    invalid_field = "meter_factor"

    def make(self, world, in_scope=True):
        return meter(world, in_scope)

    def create_payload(self, world):
        return {"code": "LACT-1", "name": "LACT unit", "site": str(world.site_a.pk), "kind": "fiscal",
                "phase": "oil", "meter_factor": "0.9985", "wells": [str(f.well(world).pk)]}

    def update_payload(self, world, obj):
        return {"meter_factor": "1.0012"}

    def invalid_payload(self, world):
        return {"code": "BAD", "name": "x", "site": str(world.site_a.pk), "meter_factor": "3"}


class TestMeterReadingApi(ApiContract):
    endpoint = "/api/v1/production/meter-readings/"
    model = MeterReading
    invalid_field = "gross_volume"

    def make(self, world, in_scope=True):
        return MeterReading.objects.create(meter=meter(world, in_scope), reading_date="2026-03-01", gross_volume=10)

    def create_payload(self, world):
        return {"meter": str(meter(world).pk), "reading_date": "2026-03-02", "gross_volume": "123.456"}

    def update_payload(self, world, obj):
        return {"gross_volume": "11"}

    def invalid_payload(self, world):
        return {"meter": str(meter(world).pk), "reading_date": "2026-03-02", "gross_volume": "-1"}


class TestDailyProductionApi(ApiContract):
    endpoint = "/api/v1/production/daily/"
    model = DailyWellProduction
    invalid_field = "downtime_reason"

    def make(self, world, in_scope=True):
        return DailyWellProduction.objects.create(well=f.well(world, in_scope), prod_date="2026-03-01", hours_on=24)

    def create_payload(self, world):
        return {"well": str(f.well(world).pk), "prod_date": "2026-03-02", "hours_on": "24", "choke_64ths": "32",
                "tubing_pressure_kpa": "3450", "oil_m3": "31.8", "gas_sm3": "4200", "water_m3": "12"}

    def update_payload(self, world, obj):
        return {"oil_m3": "30.5"}

    def invalid_payload(self, world):
        return {"well": str(f.well(world).pk), "prod_date": "2026-03-02", "hours_on": "20"}


class TestWellTestApi(ApiContract):
    endpoint = "/api/v1/production/well-tests/"
    model = WellTest
    invalid_field = "duration_hours"

    def make(self, world, in_scope=True):
        return WellTest.objects.create(well=f.well(world, in_scope), test_date="2026-03-01", duration_hours=12,
                                       oil_rate_m3d=30, gas_rate_sm3d=4000, water_rate_m3d=10)

    def create_payload(self, world):
        return {"well": str(f.well(world).pk), "test_date": "2026-03-02", "duration_hours": "12",
                "oil_rate_m3d": "30", "gas_rate_sm3d": "4000", "water_rate_m3d": "10"}

    def update_payload(self, world, obj):
        return {"choke_64ths": "28"}

    def invalid_payload(self, world):
        return {"well": str(f.well(world).pk), "test_date": "2026-03-02", "duration_hours": "100",
                "oil_rate_m3d": "30", "gas_rate_sm3d": "4000", "water_rate_m3d": "10"}


@pytest.mark.django_db
def test_well_test_review_and_derived_figures(world, api_for):
    t = TestWellTestApi().make(world)
    body = api_for("viewer").get(f"/api/v1/production/well-tests/{t.pk}/").json()
    assert body["water_cut_pct"] == 25.0 and body["gor_sm3_m3"] == 133.33
    url = f"/api/v1/production/well-tests/{t.pk}/review/"
    assert api_for("operator").post(url, {"validated": True}, format="json").status_code == 403
    r = api_for("supervisor").post(url, {"validated": False}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "note"
    assert api_for("supervisor").post(url, {"validated": True}, format="json").json()["status"] == "validated"
    assert api_for("supervisor").post(url, {"validated": True}, format="json").status_code == 409


def test_units_are_converted_with_pint():
    assert units.convert(1, "liquid_rate", "field") == pytest.approx(6.29, abs=0.001)
    assert units.convert(28.316846592, "gas_volume", "field") == pytest.approx(1.0)  # 1000 ft³ = 1 Mscf
    assert units.convert(6894.757, "pressure", "field") == pytest.approx(1000.0, abs=0.001)
    assert units.convert(100, "temperature", "field") == pytest.approx(212.0)
    assert units.convert(15, "temperature", "metric") == 15
    assert units.to_canonical(1, "liquid_volume", "field") == Decimal("0.158987")


@pytest.mark.django_db
def test_display_follows_the_user_preference(world, api_for):
    rec = DailyWellProduction.objects.create(well=f.well(world), prod_date=dt.date(2026, 3, 1), hours_on=24,
                                             oil_m3=Decimal("10"), tubing_pressure_kpa=Decimal("1000"))
    client = api_for("operator")
    field = client.get(f"/api/v1/production/daily/{rec.pk}/").json()["display"]
    assert field["system"] == "field" and field["oil_m3"] == {"value": 62.898, "unit": "bbl"}
    assert field["tubing_pressure_kpa"]["unit"] == "psi"
    assert field["std_temperature_c"] == {"value": 59.0, "unit": "°F"}
    assert client.put("/api/v1/production/units/me/", {"system": "metric"}, format="json").status_code == 200
    metric = client.get(f"/api/v1/production/daily/{rec.pk}/").json()["display"]
    assert metric["oil_m3"] == {"value": 10.0, "unit": "m³"} and metric["tubing_pressure_kpa"]["unit"] == "kPa"
    assert client.get(f"/api/v1/production/daily/{rec.pk}/?units=field").json()["display"]["oil_m3"]["unit"] == "bbl"
    bad = client.put("/api/v1/production/units/me/", {"system": "imperial"}, format="json")
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "system"


@pytest.mark.django_db
def test_scoped_user_cannot_read_other_field_production(world, api_for, personas, client):
    inside, outside = TestDailyProductionApi().make(world), TestDailyProductionApi().make(world, False)
    ids = {r["id"] for r in api_for("viewer").get("/api/v1/production/daily/").json()["results"]}
    assert ids == {str(inside.pk)}
    client.force_login(personas["viewer"])
    assert client.get(f"/production/daily/{outside.pk}/").status_code == 404
    page = client.get(f"/production/daily/{inside.pk}/?units=metric").content.decode()
    assert "m³" in page
