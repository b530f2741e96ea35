from decimal import Decimal

from apps.core.testing import ApiContract
from apps.wells.models import (
    Completion,
    CompletionRestriction,
    PvtSample,
    Reservoir,
    SurveyStation,
    Trajectory,
    Well,
    Wellbore,
    WellStatusChange,
)
from tests.wells import factories as f


class TestWellApi(ApiContract):
    endpoint = "/api/v1/wells/wells/"
    model = Well
    invalid_field = "completion_date"

    def make(self, world, in_scope=True):
        return f.well(world, in_scope)

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "name": "NEW-1", "uwi": "42-000-00001", "well_type": "producer",
                "datum_type": "RKB", "datum_elevation_m": "812.40", "ground_elevation_m": "804.00",
                "spud_date": "2026-01-03"}

    def update_payload(self, world, obj):
        return {"status": "producing", "status_reason": "First oil"}

    def invalid_payload(self, world):
        return {"site": str(world.site_a.pk), "name": "BAD-1", "uwi": "42-000-00002", "spud_date": "2026-02-01",
                "completion_date": "2026-01-01"}


class TestWellboreApi(ApiContract):
    endpoint = "/api/v1/wells/wellbores/"
    model = Wellbore
    invalid_field = "parent"

    def make(self, world, in_scope=True):
        return f.wellbore(world, in_scope)

    def create_payload(self, world):
        return {"well": str(f.well(world).pk), "name": "OH", "total_md": "3200.00"}

    def update_payload(self, world, obj):
        return {"total_md": "3333.00"}

    def invalid_payload(self, world):
        other = f.wellbore(world)  # a wellbore of another well cannot be the parent
        return {"well": str(f.well(world).pk), "name": "ST1", "parent": str(other.pk), "kickoff_md": "1000"}


class TestReservoirApi(ApiContract):
    endpoint = "/api/v1/wells/reservoirs/"
    model = Reservoir
    invalid_field = "initial_pressure_kpa"

    def make(self, world, in_scope=True):
        field = world.field_a if in_scope else world.field_b
        return Reservoir.objects.create(field=field, name=f"R{Reservoir.objects.count()}")

    def create_payload(self, world):
        return {"field": str(world.field_a.pk), "name": "Wolfcamp A", "fluid_type": "black_oil"}

    def update_payload(self, world, obj):
        return {"formation": "Wolfcamp"}

    def invalid_payload(self, world):
        return {"field": str(world.field_a.pk), "name": "Bad", "initial_pressure_kpa": "-5"}


class TestCompletionApi(ApiContract):
    endpoint = "/api/v1/wells/completions/"
    model = Completion
    invalid_field = "tubing_id_mm"

    def make(self, world, in_scope=True):
        return f.completion(world, in_scope, restrictions=())

    def create_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "name": "3.5in tubing", "tubing_od_mm": "88.90",
                "tubing_id_mm": "76.00"}

    def update_payload(self, world, obj):
        return {"name": "Renamed completion"}

    def invalid_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "name": "x", "tubing_od_mm": "60", "tubing_id_mm": "70"}


class TestCompletionRestrictionApi(ApiContract):
    endpoint = "/api/v1/wells/restrictions/"
    model = CompletionRestriction
    invalid_field = "min_id_mm"

    def make(self, world, in_scope=True):
        c = f.completion(world, in_scope, restrictions=())
        return CompletionRestriction.objects.create(completion=c, depth_md=1000, min_id_mm=Decimal("58.75"))

    def create_payload(self, world):
        c = f.completion(world, restrictions=())
        return {"completion": str(c.pk), "kind": "nipple", "depth_md": "2100", "min_id_mm": "69.85"}

    def update_payload(self, world, obj):
        return {"description": "2.75 in R nipple"}

    def invalid_payload(self, world):
        c = f.completion(world, restrictions=())
        return {"completion": str(c.pk), "kind": "nipple", "depth_md": "2100", "min_id_mm": "99"}


class TestPvtSampleApi(ApiContract):
    endpoint = "/api/v1/wells/pvt-samples/"
    model = PvtSample
    invalid_field = "sampled_on"

    def make(self, world, in_scope=True):
        return PvtSample.objects.create(well=f.well(world, in_scope), sampled_on="2026-03-01")

    def create_payload(self, world):
        return {"well": str(f.well(world).pk), "sampled_on": "2026-03-02", "kind": "bottomhole",
                "bubble_point_kpa": "15000", "reservoir_pressure_kpa": "24000"}

    def update_payload(self, world, obj):
        return {"laboratory": "Core Lab"}

    def invalid_payload(self, world):
        return {"well": str(f.well(world).pk), "sampled_on": "not a date"}


class TestTrajectoryApi(ApiContract):
    endpoint = "/api/v1/wells/trajectories/"
    model = Trajectory
    invalid_field = "definitive"

    def make(self, world, in_scope=True):
        return f.trajectory(world, in_scope)

    def create_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "name": "Gyro", "definitive": True}

    def update_payload(self, world, obj):
        return {"survey_company": "Survey Co"}

    def invalid_payload(self, world):
        existing = f.trajectory(world, definitive=True)
        return {"wellbore": str(existing.wellbore_id), "name": "Second", "definitive": True}


class TestSurveyStationApi(ApiContract):
    endpoint = "/api/v1/wells/survey-stations/"
    model = SurveyStation
    invalid_field = "inclination"

    def make(self, world, in_scope=True):
        return SurveyStation.objects.create(trajectory=f.trajectory(world, in_scope), md=100, inclination=0,
                                            azimuth=0)

    def create_payload(self, world):
        return {"trajectory": str(f.trajectory(world).pk), "md": "150", "inclination": "3.5", "azimuth": "45"}

    def update_payload(self, world, obj):
        return {"inclination": "2.0"}

    def invalid_payload(self, world):
        return {"trajectory": str(f.trajectory(world).pk), "md": "150", "inclination": "190", "azimuth": "45"}


class TestWellStatusChangeApi(ApiContract):
    endpoint = "/api/v1/wells/status-history/"
    model = WellStatusChange

    def make(self, world, in_scope=True):
        return f.well(world, in_scope).status_history.get()

    def create_payload(self, world):
        return {}

    def test_create(self, world, api_for):  # read-only endpoint
        assert api_for("admin").post(self.endpoint, {}, format="json").status_code == 405

    test_update = test_delete = test_validation_error_envelope = test_out_of_scope_change_is_404 = None


def test_status_change_writes_history(world, api_for):
    well = f.well(world)
    response = api_for("operator").patch(f"/api/v1/wells/wells/{well.pk}/",
                                         {"status": "shut_in", "status_reason": "ESP failure"}, format="json")
    assert response.status_code == 200, response.json()
    rows = list(well.status_history.order_by("created_at").values_list("from_status", "to_status", "reason"))
    assert rows == [("", "planned", ""), ("planned", "shut_in", "ESP failure")]
    # a save that does not change the status adds no row
    api_for("operator").patch(f"/api/v1/wells/wells/{well.pk}/", {"spud_date": "2026-01-01"}, format="json")
    assert well.status_history.count() == 2


def test_completion_reports_smallest_restriction(world, api_for):
    c = f.completion(world, restrictions=((1000, Decimal("69.85")), (2500, Decimal("58.75"))))
    body = api_for("viewer").get(f"/api/v1/wells/completions/{c.pk}/").json()
    assert body["min_id_mm"] == 58.75
    assert [float(r["depth_md"]) for r in body["restrictions"]] == [1000.0, 2500.0]


def test_make_definitive_demotes_the_previous_one(world, api_for):
    first = f.trajectory(world, definitive=True)
    second = f.trajectory(world, wellbore=first.wellbore, name="Gyro")
    response = api_for("operator").post(f"/api/v1/wells/trajectories/{second.pk}/make-definitive/")
    assert response.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.definitive, second.definitive) == (False, True)


def test_scoped_user_cannot_read_other_field_wells_in_api_or_ui(world, api_for, personas, client):
    inside, outside = f.well(world), f.well(world, in_scope=False)
    names = {r["name"] for r in api_for("supervisor").get("/api/v1/wells/wells/").json()["results"]}
    assert inside.name in names and outside.name not in names
    client.force_login(personas["supervisor"])
    page = client.get("/wells/wells/").content.decode()
    assert inside.name in page and outside.name not in page
    assert client.get(f"/wells/wells/{outside.pk}/").status_code == 404
    assert client.get(f"/wells/wells/{inside.pk}/").status_code == 200
    assert client.get(f"/wells/wells/{outside.pk}/edit/").status_code == 404


def test_ui_create_and_edit_well(world, personas, client):
    client.force_login(personas["operator"])
    response = client.post("/wells/wells/new/", {"site": str(world.site_a.pk), "name": "UI-1", "uwi": "UWI-UI-1",
                                                 "well_type": "producer", "status": "planned", "datum_type": "RKB"})
    assert response.status_code == 302, response.content.decode()[:2000]
    well = Well.objects.get(name="UI-1")
    assert response["Location"] == f"/wells/wells/{well.pk}/"
    # a site of another field is not a valid choice
    response = client.post("/wells/wells/new/", {"site": str(world.site_b.pk), "name": "UI-2", "uwi": "UWI-UI-2",
                                                 "well_type": "producer", "status": "planned", "datum_type": "RKB"})
    assert response.status_code == 200 and not Well.objects.filter(name="UI-2").exists()
    client.force_login(personas["viewer"])
    assert client.get("/wells/wells/new/").status_code == 403
