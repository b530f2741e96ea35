from apps.accounts.models import User
from apps.core.testing import ApiContract


class TestUserApi(ApiContract):
    endpoint = "/api/v1/accounts/users/"
    model = User
    scoped = False
    invalid_field = "role"
    update_field = "first_name"

    def make(self, world, in_scope=True):
        n = User.objects.count()
        user = User.objects.create(username=f"made{n}", first_name="Made")
        user.set_role("viewer")
        return user

    def create_payload(self, world):
        return {"username": "newhand", "role": "operator", "password": "Roustabout-2026",
                "scopes": [{"kind": "field", "code": "FA"}]}

    def update_payload(self, world, obj):
        return {"first_name": "Renamed"}

    def invalid_payload(self, world):
        return {"username": "bad", "role": "king"}


def test_created_user_has_role_scope_and_usable_password(api_for):
    response = api_for("admin").post("/api/v1/accounts/users/", TestUserApi().create_payload(None), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["role"] == "operator" and body["scopes"] == [{"kind": "field", "code": "FA"}]
    assert "password" not in body
    user = User.objects.get(username="newhand")
    assert user.check_password("Roustabout-2026") and user.role == "operator"


def test_weak_password_is_refused_with_the_field(api_for):
    response = api_for("admin").post("/api/v1/accounts/users/", {"username": "w", "role": "viewer",
                                                                 "password": "123"}, format="json")
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["details"]} == {"password"}


def test_delete_deactivates_instead_of_erasing_the_audit_trail(api_for, personas):
    victim = personas["viewer"]
    assert api_for("admin").delete(f"/api/v1/accounts/users/{victim.pk}/").status_code == 204
    victim.refresh_from_db()
    assert victim.is_active is False


def test_ui_denial_is_audited(personas, client):
    from apps.core.models import AuditEvent

    client.force_login(personas["scada"])
    assert client.get("/wells/sites/").status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied", actor=personas["scada"], channel="ui").exists()
