"""Test bases every app reuses: a scoped world, personas for each role, authenticated clients, and the generic API
contract (NetBox's APIViewTestCases in spirit).

A model's API test declares its endpoint and how to build objects; the contract then checks, for every role, list,
retrieve, create, update and delete against the role policy (2xx or 403), anonymous access (401), an out-of-scope
object (404), a validation error (400 with the envelope) and that each change wrote an audit row.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.core.rbac import ADMIN, ROLES, model_policy

__all__ = ["world", "personas", "api_for", "anon_api", "ApiContract", "allowed", "jwt_client"]

PASSWORD = "Persona-pass-2026"


def jwt_client(user) -> APIClient:
    """An API client carrying a real JWT access token for ``user`` (exercises the real authentication path)."""
    client = APIClient()
    token = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def world(db):
    """Two fields with a site each: users are scoped to field FA, so everything in FB is out of scope."""
    from apps.wells.models import Field, Site

    fa = Field.objects.create(code="FA", name="Field A")
    fb = Field.objects.create(code="FB", name="Field B")
    return SimpleNamespace(
        field_a=fa,
        field_b=fb,
        site_a=Site.objects.create(field=fa, code="SA1", name="Site A1"),
        site_b=Site.objects.create(field=fb, code="SB1", name="Site B1"),
    )


@pytest.fixture
def personas(world):
    """One user per role; every non-admin persona is scoped to field FA."""
    from apps.accounts.services import create_or_update_user

    users = {}
    for role in ROLES:
        fields = [] if role == ADMIN else ["FA"]
        users[role], _ = create_or_update_user(f"{role}-user", role, fields=fields, email=f"{role}@test.invalid")
    return users


@pytest.fixture
def api_for(personas):
    def make(role: str) -> APIClient:
        return jwt_client(personas[role])

    return make


@pytest.fixture
def anon_api():
    return APIClient()


def allowed(model, role: str, action: str) -> bool:
    if role == ADMIN:
        return True
    return action in model_policy(model).get(role, ())


@pytest.mark.django_db
class ApiContract:
    """Subclass as ``TestXxxApi(ApiContract)`` and set/override:

    - ``endpoint``: the list URL, e.g. "/api/v1/wells/sites/";
    - ``model``;
    - ``make(world, in_scope: bool)``: create and return an object in field FA (True) or FB (False);
    - ``create_payload(world)``: a valid POST body (in field FA);
    - ``update_payload(world, obj)``: a valid PATCH body; ``update_field`` names a field it changes (audit diff);
    - ``invalid_payload(world)`` and ``invalid_field``: a POST body rejected with a 400 naming that field.
    - ``scoped = False`` for models that are not field/site scoped (no 404 check).
    """

    endpoint: str = ""
    model = None
    update_field: str = ""
    invalid_field: str = ""
    scoped = True

    def make(self, world, in_scope: bool = True):
        raise NotImplementedError

    def make_deletable(self, world):
        """An in-scope object nothing else references (default: ``make(world, True)``)."""
        return self.make(world, True)

    def create_payload(self, world) -> dict:
        raise NotImplementedError

    def update_payload(self, world, obj) -> dict:
        raise NotImplementedError

    def invalid_payload(self, world) -> dict:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------------------------------
    def detail(self, obj) -> str:
        return f"{self.endpoint}{obj.pk}/"

    @staticmethod
    def assert_envelope(response, status: int, code: str | None = None):
        assert response.status_code == status, (response.status_code, getattr(response, "data", response.content))
        body = response.json()
        assert set(body) >= {"error", "message", "details"}, body
        if code:
            assert body["error"] == code, body

    def audit_rows(self, obj, action: str):
        from apps.core.models import AuditEvent

        return AuditEvent.objects.filter(object_type=self.model._meta.label_lower, object_id=str(obj.pk),
                                         action=action)

    # -- the contract ---------------------------------------------------------------------------------------------
    def test_anonymous_is_401(self, world, anon_api):
        obj = self.make(world, True)
        self.assert_envelope(anon_api.get(self.endpoint), 401)
        self.assert_envelope(anon_api.get(self.detail(obj)), 401)
        self.assert_envelope(anon_api.post(self.endpoint, self.create_payload(world), format="json"), 401)

    @pytest.mark.parametrize("role", ROLES)
    def test_list(self, role, world, api_for):
        inside = self.make(world, True)
        outside = self.make(world, False) if self.scoped else None
        response = api_for(role).get(self.endpoint)
        if not allowed(self.model, role, "view"):
            self.assert_envelope(response, 403, "permission_denied")
            return
        assert response.status_code == 200, response.data
        ids = {row["id"] for row in response.json()["results"]}
        assert str(inside.pk) in ids
        if outside is not None:
            assert (str(outside.pk) in ids) == (role == ADMIN)

    @pytest.mark.parametrize("role", ROLES)
    def test_retrieve(self, role, world, api_for):
        inside = self.make(world, True)
        client = api_for(role)
        response = client.get(self.detail(inside))
        if not allowed(self.model, role, "view"):
            self.assert_envelope(response, 403, "permission_denied")
            return
        assert response.status_code == 200, response.data
        assert response.json()["id"] == str(inside.pk)
        if self.scoped and role != ADMIN:
            outside = self.make(world, False)
            self.assert_envelope(client.get(self.detail(outside)), 404, "not_found")

    @pytest.mark.parametrize("role", ROLES)
    def test_create(self, role, world, api_for):
        response = api_for(role).post(self.endpoint, self.create_payload(world), format="json")
        if not allowed(self.model, role, "add"):
            self.assert_envelope(response, 403, "permission_denied")
            return
        assert response.status_code == 201, response.data
        obj = self.model.objects.get(pk=response.json()["id"])
        rows = self.audit_rows(obj, "create")
        assert rows.count() == 1
        assert rows.get().actor_name == f"{role}-user"
        assert rows.get().channel == "api"

    @pytest.mark.parametrize("role", ROLES)
    def test_update(self, role, world, api_for):
        obj = self.make(world, True)
        payload = self.update_payload(world, obj)
        response = api_for(role).patch(self.detail(obj), payload, format="json")
        if not allowed(self.model, role, "change"):
            self.assert_envelope(response, 403, "permission_denied")
            return
        assert response.status_code == 200, response.data
        row = self.audit_rows(obj, "update").get()
        changed = self.update_field or next(iter(payload))
        attname = self.model._meta.get_field(changed).attname
        assert attname in row.changes, row.changes
        before, after = row.changes[attname]
        assert before != after

    @pytest.mark.parametrize("role", ROLES)
    def test_delete(self, role, world, api_for):
        obj = self.make_deletable(world)
        response = api_for(role).delete(self.detail(obj))
        if not allowed(self.model, role, "delete"):
            self.assert_envelope(response, 403, "permission_denied")
            return
        assert response.status_code == 204, getattr(response, "data", None)
        assert self.audit_rows(obj, "delete").count() + self.audit_rows(obj, "update").count() >= 1

    def test_out_of_scope_change_is_404(self, world, api_for):
        if not self.scoped:
            pytest.skip("model is not field/site scoped")
        writer = next((r for r in ROLES if r != ADMIN and allowed(self.model, r, "change")), None)
        if writer is None:
            pytest.skip("no scoped role may change this model")
        outside = self.make(world, False)
        client = api_for(writer)
        self.assert_envelope(client.patch(self.detail(outside), self.update_payload(world, outside), format="json"),
                             404, "not_found")

    def test_validation_error_envelope(self, world, api_for):
        response = api_for(ADMIN).post(self.endpoint, self.invalid_payload(world), format="json")
        self.assert_envelope(response, 400, "validation_error")
        fields = {d["field"] for d in response.json()["details"]}
        assert self.invalid_field in fields, response.json()

