import uuid
from decimal import Decimal

import pytest

from apps.core.testing import ApiContract
from apps.intervention.models import CoiledTubingReel, InterventionJob, ToolComponent, Toolstring
from tests.intervention.helpers import GOOD, catalogue
from tests.wells import factories as f

CONTRACT = "/api/v1/toolstrings"


def reel(world, in_scope=True, fatigue="10"):
    site = world.site_a if in_scope else world.site_b
    return CoiledTubingReel.objects.create(serial_number=f"R{uuid.uuid4().hex[:8]}", site=site, od_mm="38.10",
                                           wall_thickness_mm="3.18", grade="CT90", length_m="5000",
                                           fatigue_pct=Decimal(fatigue))


def toolstring(world, in_scope=True, keys=GOOD):
    from apps.intervention import services
    from apps.intervention.api.serializers import spec_of

    cat = catalogue()
    ts = Toolstring(name="Run", well=f.well(world, in_scope), operation_type="Fishing", wire_size_mm="2.34",
                    whp_kpa="10000", lubricator_length_m="10")
    return services.save_toolstring(ts, [spec_of(cat[k], cat[k].pk) for k in keys])


class TestReelApi(ApiContract):
    endpoint = "/api/v1/intervention/reels/"
    model = CoiledTubingReel
    invalid_field = "wall_thickness_mm"

    def make(self, world, in_scope=True):
        return reel(world, in_scope)

    def create_payload(self, world):
        return {"serial_number": "CT-001", "site": str(world.site_a.pk), "od_mm": "38.10", "wall_thickness_mm": "3.18",
                "grade": "CT90", "length_m": "5000"}

    def update_payload(self, world, obj):
        return {"grade": "CT110"}

    def invalid_payload(self, world):
        return {"serial_number": "CT-002", "site": str(world.site_a.pk), "od_mm": "38.10", "wall_thickness_mm": "20",
                "grade": "CT90", "length_m": "5000"}


class TestJobApi(ApiContract):
    endpoint = "/api/v1/intervention/jobs/"
    model = InterventionJob
    invalid_field = "reel"

    def make(self, world, in_scope=True):
        return InterventionJob.objects.create(well=f.well(world, in_scope), job_type="slickline",
                                              planned_start="2026-05-01")

    def create_payload(self, world):
        return {"well": str(f.well(world).pk), "job_type": "coiled_tubing", "planned_start": "2026-05-02",
                "reel": str(reel(world).pk), "cost_reference": "AFE-26-001"}

    def update_payload(self, world, obj):
        return {"objective": "Pull plug"}

    def invalid_payload(self, world):  # a reel past the 40 % fatigue limit
        return {"well": str(f.well(world).pk), "job_type": "coiled_tubing", "planned_start": "2026-05-02",
                "reel": str(reel(world, fatigue="41").pk)}


class TestComponentApi(ApiContract):
    endpoint = "/api/v1/intervention/components/"
    model = ToolComponent
    scoped = False
    invalid_field = "fishing_neck_od_mm"

    def make(self, world, in_scope=True):
        return ToolComponent.objects.create(code=f"C{uuid.uuid4().hex[:6]}", name="Stem", tool_type="stem",
                                            od_mm="38.1", length_m="1.5", weight_kg="20")

    def create_payload(self, world):
        return {"code": "STEM-X", "name": "Stem 5 ft", "tool_type": "stem", "od_mm": "38.10", "length_m": "1.524",
                "weight_kg": "20", "top_connection": "15/16-10 UN", "top_gender": "box"}

    def update_payload(self, world, obj):
        return {"name": "Stem 5 ft tungsten"}

    def invalid_payload(self, world):
        return {"code": "BAD", "name": "x", "tool_type": "stem", "od_mm": "38.10", "fishing_neck_od_mm": "40",
                "length_m": "1", "weight_kg": "1"}


class TestToolstringApi(ApiContract):
    endpoint = "/api/v1/intervention/toolstrings/"
    model = Toolstring
    invalid_field = "tools.1.odMm"
    update_field = "name"

    def make(self, world, in_scope=True):
        return toolstring(world, in_scope)

    def create_payload(self, world):
        cat = catalogue()
        return {"name": "W1 fishing run", "wellId": str(f.well(world).pk), "operationType": "Fishing",
                "tools": [{"componentId": str(cat[k].pk)} for k in GOOD], "metadata": {"createdBy": "test"}}

    def update_payload(self, world, obj):
        return {"name": "Renamed run"}

    def invalid_payload(self, world):
        return {"name": "x", "wellId": str(f.well(world).pk), "operationType": "Fishing",
                "tools": [{"code": "RS-NR"}, {"name": "Inline", "toolType": "stem", "odMm": "-3", "lengthM": "1",
                                              "weightKg": "1"}]}


# -- the reference contract at /api/v1/toolstrings ---------------------------------------------------------------
def contract_payload(world, **over):
    cat = catalogue()
    body = {"name": "W666 Fishing Run 1", "wellId": str(f.well(world).pk), "operationType": "Fishing",
            "tools": [{"id": "RS-NR"}, *({"componentId": str(cat[k].pk)} for k in GOOD[1:])],
            "metadata": {"createdBy": "Field engineer"}}
    body.update(over)
    return body


def test_contract_create_answers_success_and_toolstring(world, api_for):
    response = api_for("operator").post(CONTRACT, contract_payload(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["success"] is True
    ts = body["toolstring"]
    assert ts["synced"] is False and ts["operationType"] == "Fishing"
    assert ts["metadata"] == {"createdBy": "Field engineer"}
    assert [t["name"] for t in ts["tools"]][:2] == ["RS-NR", "SWV"]
    assert ts["check"]["ok"] is True


def test_contract_create_with_client_id_is_idempotent(world, api_for):
    client_id = str(uuid.uuid4())
    payload = contract_payload(world, id=client_id)
    first = api_for("operator").post(CONTRACT, payload, format="json")
    again = api_for("operator").post(CONTRACT, payload, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["toolstring"]["id"] == again.json()["toolstring"]["id"] == client_id
    assert Toolstring.objects.filter(pk=client_id).count() == 1
    assert Toolstring.objects.get(pk=client_id).items.count() == len(GOOD)


def test_contract_create_racing_its_own_resend_answers_as_a_retry(world, api_for, monkeypatch):
    """A resend that crosses the first try: both pass the "already stored?" check, the second insert hits the
    primary key. It must answer like a retry (200 with the stored toolstring), not 500."""
    from apps.intervention.api.views import ToolstringContractViewSet

    client_id = str(uuid.uuid4())
    payload = contract_payload(world, id=client_id)
    assert api_for("operator").post(CONTRACT, payload, format="json").status_code == 201
    real, calls = ToolstringContractViewSet._stored, []

    def first_check_misses(self, pk):  # the resend looked before the first try committed
        calls.append(pk)
        return None if len(calls) == 1 else real(self, pk)

    monkeypatch.setattr(ToolstringContractViewSet, "_stored", first_check_misses)
    again = api_for("operator").post(CONTRACT, payload, format="json")
    assert again.status_code == 200, again.json()
    assert again.json()["toolstring"]["id"] == client_id and len(calls) == 2
    assert Toolstring.objects.filter(pk=client_id).count() == 1


def test_contract_client_id_of_another_fields_toolstring_is_a_conflict(world, api_for):
    other = toolstring(world, in_scope=False)
    response = api_for("operator").post(CONTRACT, contract_payload(world, id=str(other.pk)), format="json")
    assert response.status_code == 409 and response.json()["error"] == "conflict"


def test_contract_list_filters_by_well_and_hides_other_fields(world, api_for):
    a, b, outside = toolstring(world), toolstring(world), toolstring(world, in_scope=False)
    body = api_for("viewer").get(CONTRACT, {"wellId": str(a.well_id)}).json()
    assert body["success"] is True and body["count"] == 1 and body["toolstrings"][0]["id"] == str(a.pk)
    ids = {t["id"] for t in api_for("viewer").get(CONTRACT).json()["toolstrings"]}
    assert ids == {str(a.pk), str(b.pk)}
    assert api_for("viewer").get(f"{CONTRACT}/{outside.pk}").json()["error"] == "not_found"


def test_contract_get_put_delete(world, api_for):
    ts = toolstring(world)
    client = api_for("operator")
    assert client.get(f"{CONTRACT}/{ts.pk}").json()["toolstring"]["name"] == "Run"
    put = client.put(f"{CONTRACT}/{ts.pk}", contract_payload(world, name="Run 2", wellId=str(ts.well_id),
                                                            tools=[{"id": "RS-NR"}, {"id": "SWV"}]), format="json")
    assert put.status_code == 200 and put.json()["success"] is True
    assert [t["name"] for t in put.json()["toolstring"]["tools"]] == ["RS-NR", "SWV"]
    assert client.delete(f"{CONTRACT}/{ts.pk}").json() == {"success": True,
                                                           "message": "Toolstring configuration deleted."}
    assert not Toolstring.objects.filter(pk=ts.pk).exists()


def test_contract_errors_use_the_envelope(world, api_for, anon_api):
    assert anon_api.get(CONTRACT).json()["error"] == "not_authenticated"
    denied = api_for("viewer").post(CONTRACT, contract_payload(world), format="json")
    assert denied.status_code == 403 and denied.json()["error"] == "permission_denied"
    bad = api_for("operator").post(CONTRACT, contract_payload(world, tools=[{"id": "NO-SUCH"}]), format="json")
    assert bad.status_code == 400
    assert bad.json()["details"] == [{"field": "tools.0.componentId", "error": "No catalogue component 'NO-SUCH'."}]
    other_well = f.well(world, in_scope=False)
    bad = api_for("operator").post(CONTRACT, contract_payload(world, wellId=str(other_well.pk)), format="json")
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "wellId"


def test_contract_accepts_well_name_as_well_id(world, api_for):
    well = f.well(world, name="W666")
    response = api_for("operator").post(CONTRACT, contract_payload(world, wellId="W666"), format="json")
    assert response.status_code == 201 and response.json()["toolstring"]["wellId"] == str(well.pk)


def test_approve_is_blocked_by_errors_not_warnings(world, api_for):
    bad = toolstring(world, keys=["rs", "swivel", "jar", "stem", "kj", "gs"])  # jar above the stem: error
    response = api_for("supervisor").post(f"/api/v1/intervention/toolstrings/{bad.pk}/approve/")
    assert response.status_code == 400 and "jars_below_stem" in response.json()["details"][0]["error"]
    warned = toolstring(world, keys=["rs", "stem", "jar", "kj", "gs"])  # no swivel: warning only
    assert api_for("operator").post(f"/api/v1/intervention/toolstrings/{warned.pk}/approve/").status_code == 403
    response = api_for("supervisor").post(f"/api/v1/intervention/toolstrings/{warned.pk}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    # an edit returns it to draft
    api_for("operator").patch(f"/api/v1/intervention/toolstrings/{warned.pk}/", {"name": "x"}, format="json")
    warned.refresh_from_db()
    assert warned.status == "draft"


def test_check_endpoint_for_the_builder(world, api_for):
    cat = catalogue()
    body = {"tools": [{"componentId": str(cat[k].pk)} for k in ["stem", "rs"]], "lubricatorLengthM": "1"}
    response = api_for("viewer").post("/api/v1/intervention/toolstrings/check/", body, format="json")
    assert response.status_code == 200
    found = {x["code"] for x in response.json()["findings"]}
    assert {"rope_socket_top", "lubricator", "totals"} <= found
    assert not Toolstring.objects.exists()


def test_reel_fatigue_limit_and_job_completion(world, api_for, settings):
    settings.CT_REEL_FATIGUE_LIMIT_PCT = 40.0
    r = reel(world, fatigue="39.5")
    client = api_for("operator")
    job = client.post("/api/v1/intervention/jobs/", {"well": str(f.well(world).pk), "job_type": "coiled_tubing",
                                                     "planned_start": "2026-05-02", "reel": str(r.pk)}, format="json")
    assert job.status_code == 201
    job_id = job.json()["id"]
    assert client.post(f"/api/v1/intervention/jobs/{job_id}/start/").json()["status"] == "in_progress"
    done = client.post(f"/api/v1/intervention/jobs/{job_id}/complete/",
                       {"fatigue_added_pct": "1.5", "running_length_m": "3200"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    r.refresh_from_db()
    assert r.fatigue_pct == Decimal("41.00") and r.running_length_m == Decimal("3200.0")
    # now past the limit: it cannot be assigned to a new job
    again = client.post("/api/v1/intervention/jobs/", {"well": str(f.well(world).pk), "job_type": "coiled_tubing",
                                                       "planned_start": "2026-05-09", "reel": str(r.pk)}, format="json")
    assert again.status_code == 400 and again.json()["details"][0]["field"] == "reel"
    assert client.post(f"/api/v1/intervention/jobs/{job_id}/start/").status_code == 409


@pytest.mark.django_db
def test_builder_page_renders_and_is_scoped(world, personas, client):
    inside, outside = toolstring(world), toolstring(world, in_scope=False)
    client.force_login(personas["operator"])
    page = client.get(f"/intervention/toolstrings/{inside.pk}/builder/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "js/toolstring.js" in html and "http" not in html.split("toolstring.js")[0].split("<script")[-1]
    assert client.get(f"/intervention/toolstrings/{outside.pk}/builder/").status_code == 404
    assert client.get("/intervention/toolstrings/").status_code == 200
    assert client.get(f"/intervention/toolstrings/{inside.pk}/").status_code == 200
    client.force_login(personas["viewer"])
    assert client.get("/intervention/toolstrings/builder/").status_code == 403


def test_builder_script_is_vendored():
    from pathlib import Path

    js = (Path(__file__).resolve().parents[2] / "static/js/toolstring.js").read_text()
    assert "/api/v1/intervention/toolstrings/check/" not in js  # the URL comes from the page's data attributes
    assert "http://" not in js and "https://" not in js


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "supervisor", "operator", "viewer", "scada"])
def test_contract_endpoint_per_role(role, world, api_for):
    from apps.core.testing import allowed

    inside, outside = toolstring(world), toolstring(world, in_scope=False)
    client = api_for(role)
    listing = client.get(CONTRACT)
    if not allowed(Toolstring, role, "view"):
        assert listing.status_code == 403 and listing.json()["error"] == "permission_denied"
        return
    ids = {t["id"] for t in listing.json()["toolstrings"]}
    assert str(inside.pk) in ids and (str(outside.pk) in ids) == (role == "admin")
    created = client.post(CONTRACT, contract_payload(world), format="json")
    assert created.status_code == (201 if allowed(Toolstring, role, "add") else 403)
    put = client.put(f"{CONTRACT}/{inside.pk}", contract_payload(world, wellId=str(inside.well_id)), format="json")
    assert put.status_code == (200 if allowed(Toolstring, role, "change") else 403)
    deleted = client.delete(f"{CONTRACT}/{inside.pk}")
    assert deleted.status_code == (200 if allowed(Toolstring, role, "delete") else 403)
