"""The daily production entry form works offline and re-sends: a create with a client UUID is idempotent."""

import uuid

import pytest

from apps.production.models import DailyWellProduction
from tests.wells import factories as f

pytestmark = pytest.mark.django_db


def payload(well, **kw):
    return {"well": str(well.pk), "prod_date": "2026-05-01", "hours_on": "24", "oil_m3": "12.5", "gas_sm3": "800",
            "water_m3": "3.1", **kw}


def test_resend_with_same_client_id_is_the_same_record(world, api_for):
    client = api_for("operator")
    well = f.well(world)
    client_id = str(uuid.uuid4())
    first = client.post("/api/v1/production/daily/", payload(well, id=client_id), format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["id"] == client_id
    again = client.post("/api/v1/production/daily/", payload(well, id=client_id), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == client_id
    assert DailyWellProduction.objects.filter(well=well).count() == 1


def test_a_different_id_for_the_same_well_day_is_a_field_error(world, api_for):
    client = api_for("operator")
    well = f.well(world)
    first = client.post("/api/v1/production/daily/", payload(well, id=str(uuid.uuid4())), format="json")
    assert first.status_code == 201
    r = client.post("/api/v1/production/daily/", payload(well, id=str(uuid.uuid4())), format="json")
    assert r.status_code == 400
    assert r.json()["error"] == "validation_error"


def test_id_of_a_record_out_of_scope_is_a_conflict_not_a_leak(world, api_for):
    other = DailyWellProduction.objects.create(well=f.well(world, in_scope=False), prod_date="2026-05-01",
                                               hours_on=24)
    r = api_for("operator").post("/api/v1/production/daily/", payload(f.well(world), id=str(other.pk)), format="json")
    assert r.status_code == 409


def test_bad_client_id_and_changing_the_id_on_update_are_refused(world, api_for):
    client = api_for("operator")
    well = f.well(world)
    assert client.post("/api/v1/production/daily/", payload(well, id="not-a-uuid"), format="json").status_code == 400
    created = client.post("/api/v1/production/daily/", payload(well), format="json").json()
    r = client.patch(f"/api/v1/production/daily/{created['id']}/", {"id": str(uuid.uuid4())}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "id"


def test_resend_racing_its_first_try_answers_as_a_retry(world, api_for, monkeypatch):
    """The resend looked ("already stored?") before the first try committed; its create then meets the stored row in
    the model's unique check (full_clean) or on the primary key. It must answer 200 with the record, not 400/500."""
    from apps.production.api.views import DailyWellProductionViewSet

    client = api_for("operator")
    well = f.well(world)
    client_id = str(uuid.uuid4())
    assert client.post("/api/v1/production/daily/", payload(well, id=client_id), format="json").status_code == 201
    real, calls = DailyWellProductionViewSet._stored, []

    def first_check_misses(self, pk):
        calls.append(pk)
        return None if len(calls) == 1 else real(self, pk)

    monkeypatch.setattr(DailyWellProductionViewSet, "_stored", first_check_misses)
    again = client.post("/api/v1/production/daily/", payload(well, id=client_id), format="json")
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == client_id and len(calls) == 2
    assert DailyWellProduction.objects.filter(well=well).count() == 1
