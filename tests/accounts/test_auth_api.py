"""JWT login/refresh/logout, token tampering, lockout and their audit rows (the foundation's acceptance list)."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.services import create_or_update_user
from apps.core.models import AuditEvent
from apps.core.rbac import ROLES

PASSWORD = "Correct-horse-42"


@pytest.fixture
def users(db):
    made = {}
    for role in ROLES:
        made[role], _ = create_or_update_user(f"{role}1", role, password=PASSWORD, first_name=role.title(),
                                              last_name="Tester")
    return made


def login(client, username, password=PASSWORD, ip="10.9.8.7"):
    return client.post("/api/auth/login", {"username": username, "password": password}, format="json",
                       REMOTE_ADDR=ip)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_logs_in_and_gets_tokens_and_its_role(users, role):
    response = login(APIClient(), f"{role}1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"] == {"id": str(users[role].pk), "username": f"{role}1", "role": role,
                            "full_name": f"{role.title()} Tester"}
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get("/api/v1/accounts/me").json()["role"] == role
    assert AuditEvent.objects.filter(action="login", actor=users[role], channel="api").count() == 1


def test_wrong_password_is_401_with_envelope_and_audited(users):
    response = login(APIClient(), "operator1", "nope")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_credentials"
    row = AuditEvent.objects.get(action="login_failed")
    assert row.actor_name == "operator1" and row.ip == "10.9.8.7"


def test_missing_fields_are_a_validation_error(db):
    response = APIClient().post("/api/auth/login", {"username": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert response.json()["details"] == [{"field": "password", "error": "This field is required."}]


def test_anonymous_api_is_401(db):
    response = APIClient().get("/api/v1/audit/")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_viewer_post_is_403_with_envelope_and_audited(users, world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, 'viewer1').json()['access']}")
    response = client.post("/api/v1/wells/sites/", {"field": str(world.field_a.pk), "code": "X1", "name": "x"},
                           format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "permission_denied" and "viewer" in body["message"]
    assert AuditEvent.objects.filter(action="permission_denied", actor=users["viewer"]).exists()


def test_refresh_rotates_and_logout_blacklists(users):
    client = APIClient()
    tokens = login(client, "supervisor1").json()
    refreshed = client.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()
    new_refresh = refreshed.json()["refresh"]
    # The rotated-out token is blacklisted.
    reused = client.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401 and reused.json()["error"] == "invalid_token"
    assert client.post("/api/auth/logout", {"refresh": new_refresh}, format="json").status_code == 205
    after = client.post("/api/auth/refresh", {"refresh": new_refresh}, format="json")
    assert after.status_code == 401
    assert after.json()["error"] == "invalid_token"
    assert AuditEvent.objects.filter(action="logout", actor=users["supervisor"]).exists()


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_token_is_rejected(users):
    real = AccessToken.for_user(users["admin"])
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(dict(real.payload))}."
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_tampered_token_is_rejected(users):
    token = str(AccessToken.for_user(users["viewer"]))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = str(users["admin"].pk)  # try to become the admin
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{_b64(claims)}.{signature}")
    assert client.get("/api/v1/accounts/me").status_code == 401


def test_token_signed_with_another_key_is_rejected(users):
    claims = dict(AccessToken.for_user(users["admin"]).payload)
    forged = jwt.encode(claims, "not-the-server-secret-" * 3, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/v1/accounts/me").status_code == 401


def test_expired_token_is_rejected(users):
    token = AccessToken.for_user(users["admin"])
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_eleven_failed_logins_lock_the_account_even_with_the_right_password(users):
    client = APIClient()
    for _ in range(10):
        assert login(client, "operator1", "wrong").status_code in (401, 429)
    locked = login(client, "operator1")  # the 11th attempt, correct password
    assert locked.status_code == 429
    body = locked.json()
    assert body["error"] == "account_locked"
    assert "Too many failed logins" in body["message"]
    assert int(locked["Retry-After"]) > 0
    assert AuditEvent.objects.filter(action="lockout", actor_name="operator1").exists()
    # Another account is not affected.
    assert login(client, "viewer1", ip="10.9.8.8").status_code == 200


@override_settings(LOGIN_LOCKOUT_IP_FAILURES=5)
def test_one_address_spraying_many_usernames_is_locked(users):
    client = APIClient()
    for i in range(5):
        login(client, f"nobody{i}", "x", ip="192.0.2.10")
    response = login(client, "viewer1", ip="192.0.2.10")
    assert response.status_code == 429
    assert "address" in response.json()["message"]
    assert login(client, "viewer1", ip="192.0.2.11").status_code == 200


def test_success_resets_the_account_failure_count(users):
    client = APIClient()
    for _ in range(9):
        login(client, "operator1", "wrong")
    assert login(client, "operator1").status_code == 200
    for _ in range(9):
        login(client, "operator1", "wrong")
    assert login(client, "operator1").status_code == 200


def test_inactive_user_cannot_log_in(users):
    users["viewer"].is_active = False
    users["viewer"].save()
    assert login(APIClient(), "viewer1").status_code == 401


def test_lock_lifts_after_the_window_and_old_failures_are_pruned(users):
    from apps.accounts.models import LoginFailure

    client = APIClient()
    for _ in range(10):
        login(client, "operator1", "wrong")
    assert login(client, "operator1").status_code == 429
    # Age every failure past the 15-minute window: the lock lifts by itself.
    from django.utils import timezone

    LoginFailure.objects.update(at=timezone.now() - timedelta(minutes=16))
    login(client, "someone-else", "wrong")  # any new failure prunes the expired rows
    assert LoginFailure.objects.filter(username="operator1").count() == 0
    assert login(client, "operator1").status_code == 200
