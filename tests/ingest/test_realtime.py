"""POST /api/v1/ingest/realtime: schema, tenant, mapping, unit conversion, range, per-point verdicts, dead letters,
and the gateway driver that publishes the buffered points."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from apps.wells.models import Well
from scada.ingest import units
from scada.ingest.models import DeadLetter, IngestBuffer, IngestionRecord
from scada.models import Device, Tag

URL = "/api/v1/ingest/realtime"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def ingest_tags(world):
    well = Well.objects.create(site=world.site_a, name="W07", uwi="42-501-00007")
    other_well = Well.objects.create(site=world.site_b, name="W90", uwi="42-501-00090")
    device = Device.objects.create(site=world.site_a, name="HTTP-1", protocol="http_ingest", connection={})
    device_b = Device.objects.create(site=world.site_b, name="HTTP-2", protocol="http_ingest", connection={})
    thp = Tag.objects.create(device=device, name="W07.THP", address={"key": "tubing_pressure"}, well=well,
                             unit="bar", eng_low=0, eng_high=350)
    temp = Tag.objects.create(device=device, name="W07.FLT", address={"key": "flowline_temperature"}, well=well,
                              unit="degC", eng_low=-20, eng_high=150)
    Tag.objects.create(device=device_b, name="W90.THP", address={"key": "tubing_pressure"}, well=other_well,
                       unit="bar", eng_low=0, eng_high=350)
    return {"thp": thp, "temp": temp}


def point(**over):
    base = {"well_id": "W07", "timestamp": NOW.isoformat(), "parameter_name": "tubing_pressure", "value": 1450.0,
            "unit": "psi", "quality_code": "GOOD", "source": "scada-vendor-x"}
    return {**base, **over}


def body(*points, tenant="edge-01"):
    return {"tenant_id": tenant, "data_points": list(points)}


def test_units_convert_with_pint_including_oilfield_units():
    assert units.convert(1450.0, "psi", "bar") == pytest.approx(99.974, rel=1e-4)
    assert units.convert(212.0, "degF", "degC") == pytest.approx(100.0)
    assert units.convert(1000.0, "bbl/day", "m3/d") == pytest.approx(158.987, rel=1e-5)
    assert units.convert(1.0, "Mscf/d", "m3/d") == pytest.approx(28.3168, rel=1e-5)
    with pytest.raises(ValueError, match="does not convert"):
        units.convert(1.0, "psi", "degC")
    with pytest.raises(ValueError, match="Unknown unit"):
        units.convert(1.0, "furlongs-per-fortnight-ish", "bar")


def test_accepts_converts_and_rejects_per_point_without_losing_neighbours(ingest_tags, api_for):
    response = api_for("scada").post(URL, body(
        point(),                                                          # 0: psi -> bar
        point(parameter_name="flowline_temperature", value=122.0, unit="degF"),  # 1: degF -> degC
        point(well_id="W99"),                                             # 2: unknown well
        point(parameter_name="choke"),                                    # 3: unknown parameter
        point(unit="degC"),                                               # 4: wrong dimension
        point(value=9000.0),                                              # 5: out of range (620 bar)
        point(timestamp=(NOW + timedelta(hours=1)).isoformat()),          # 6: future
        point(well_id="42-501-00007", value=1000.0, quality_code="UNCERTAIN"),  # 7: by UWI
        point(well_id="W90"),                                             # 8: another field: not in scope
    ), format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert set(result) == {"status", "message", "tenant_id", "ingestion_id", "accepted_count", "rejected_count",
                           "processing_time_ms", "rejected"}
    assert result["status"] == "partial" and result["accepted_count"] == 3 and result["rejected_count"] == 6
    assert [(r["index"], r["field"]) for r in result["rejected"]] == [
        (2, "well_id"), (3, "parameter_name"), (4, "unit"), (5, "value"), (6, "timestamp"), (8, "well_id")]
    rows = sorted(IngestBuffer.objects.values_list("tag_key", "value", "quality"), key=lambda r: (r[0], r[1]))
    thp, temp = ingest_tags["thp"].key, ingest_tags["temp"].key
    assert [(k, round(v, 2), q) for k, v, q in rows] == sorted(
        [(thp, 99.97, 0), (temp, 50.0, 0), (thp, 68.95, 1)], key=lambda r: (r[0], r[1]))
    assert DeadLetter.objects.filter(source="http").count() == 6
    assert IngestionRecord.objects.get(ingestion_id=result["ingestion_id"]).accepted == 3


def test_schema_errors_name_the_field(ingest_tags, api_for):
    client = api_for("scada")
    missing = client.post(URL, {"data_points": [point()]}, format="json")
    assert missing.status_code == 400
    assert missing.json()["details"][0]["field"] == "tenant_id"
    bad = client.post(URL, body(point(quality_code="MAYBE"), point(value="high")), format="json")
    fields = {d["field"] for d in bad.json()["details"]}
    assert fields == {"data_points.0.quality_code", "data_points.1.value"}
    too_many = client.post(URL, body(*[point()] * 1001), format="json")
    assert too_many.status_code == 400 and too_many.json()["details"][0]["field"] == "data_points"
    empty = client.post(URL, body(), format="json")
    assert empty.status_code == 400
    assert not IngestBuffer.objects.exists()


def test_tenant_must_match(ingest_tags, api_for):
    response = api_for("scada").post(URL, body(point(), tenant="someone-else"), format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "Token tenant_id does not match request tenant_id."
    with override_settings(INGEST_TENANT_ID="operator_uk"):
        assert api_for("scada").post(URL, body(point(), tenant="operator_uk"), format="json").status_code == 200


def test_only_service_accounts_and_admins_push(ingest_tags, api_for, anon_api):
    assert anon_api.post(URL, body(point()), format="json").status_code == 401
    for role in ("viewer", "operator", "supervisor"):
        assert api_for(role).post(URL, body(point()), format="json").status_code == 403
    assert api_for("admin").post(URL, body(point()), format="json").status_code == 200


def test_dead_letters_are_readable_by_supervisors(ingest_tags, api_for):
    api_for("scada").post(URL, body(point(well_id="W99")), format="json")
    rows = api_for("supervisor").get("/api/v1/scada/dead-letters/").json()["results"]
    assert len(rows) == 1 and rows[0]["source"] == "http" and "well_id" in rows[0]["reason"]
    assert api_for("operator").get("/api/v1/scada/dead-letters/").status_code == 403


@pytest.mark.django_db(transaction=True)  # the driver reads from the gateway's own database thread
def test_gateway_driver_publishes_buffered_points_once(ingest_tags, api_for):
    from scada.ingest.driver import HttpIngestDriver
    from scada.runtime.config import load_config

    api_for("scada").post(URL, body(point(), point(value=1500.0)), format="json")
    config = next(c for c in load_config().values() if c.name == "HTTP-1")
    published = []

    async def publish(samples):
        published.extend(samples)
        await driver.close()

    driver = HttpIngestDriver(config, publish)

    async def scenario():
        await driver.connect()
        await asyncio.wait_for(driver.run(), 10)

    from asgiref.sync import async_to_sync

    async_to_sync(scenario)()
    assert sorted(round(s.value, 1) for s in published) == [100.0, 103.4]
    assert all(s.key == ingest_tags["thp"].key for s in published)
    assert not IngestBuffer.objects.exists()  # taken once: a second run publishes nothing
