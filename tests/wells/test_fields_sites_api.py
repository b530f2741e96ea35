from apps.core.testing import ApiContract
from apps.wells.models import Field, Site


class TestSiteApi(ApiContract):
    endpoint = "/api/v1/wells/sites/"
    model = Site
    invalid_field = "latitude"

    def make(self, world, in_scope=True):
        field = world.field_a if in_scope else world.field_b
        n = Site.objects.count()
        return Site.objects.create(field=field, code=f"S{n}X", name=f"Site {n}")

    def create_payload(self, world):
        return {"field": str(world.field_a.pk), "code": "PAD-NEW", "name": "New pad", "kind": "pad",
                "latitude": "31.5", "longitude": "-102.2"}

    def update_payload(self, world, obj):
        return {"name": obj.name + " (renamed)"}

    def invalid_payload(self, world):
        return {"field": str(world.field_a.pk), "code": "PAD-BAD", "name": "Bad", "latitude": "123.0"}


class TestFieldApi(ApiContract):
    endpoint = "/api/v1/wells/fields/"
    model = Field
    invalid_field = "code"

    def make(self, world, in_scope=True):
        if in_scope:
            return world.field_a
        return world.field_b

    def make_deletable(self, world):
        return Field.objects.create(code="FDEL", name="Field without sites")

    def create_payload(self, world):
        return {"code": "NEWF", "name": "New field"}

    def update_payload(self, world, obj):
        return {"name": obj.name + " (renamed)"}

    def invalid_payload(self, world):
        return {"code": "lower case!", "name": "x"}


def test_site_created_in_another_field_is_refused(world, api_for):
    """A supervisor of FA pointing a new site at FB gets a 400 naming the field, as if FB did not exist."""
    response = api_for("supervisor").post(
        "/api/v1/wells/sites/", {"field": str(world.field_b.pk), "code": "SNEAK", "name": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "field"
    assert not Site.objects.filter(code="SNEAK").exists()


def test_site_scoped_user_sees_only_that_site(world):
    from apps.accounts.services import create_or_update_user
    from apps.core.testing import jwt_client

    user, _ = create_or_update_user("pad-operator", "operator", sites=["SA1"])
    rows = jwt_client(user).get("/api/v1/wells/sites/").json()["results"]
    assert [r["code"] for r in rows] == ["SA1"]
    fields = jwt_client(user).get("/api/v1/wells/fields/").json()["results"]
    assert [f["code"] for f in fields] == ["FA"]


def test_deleting_a_field_with_sites_is_a_409_conflict(world, api_for):
    response = api_for("admin").delete(f"/api/v1/wells/fields/{world.field_a.pk}/")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert "Site" in body["message"]
    assert Field.objects.filter(pk=world.field_a.pk).exists()
