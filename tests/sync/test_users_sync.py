"""Users and roles authored at the hub reach the edges by pull (issue 8, "master data ... users and roles").

The real-process tests use the helpers of test_coverage.py: the test database is the edge, a hub process (daphne,
EDGE_ROLE=hub) runs on its own database, users are authored at the hub by ``manage.py shell`` (so the hub's own
signals write its feed) and ``manage.py run_sync --once`` pulls at the edge. The in-process tests check the hub's
events (role/scope changes re-emit the user) and the edge's applier (conflicts, bad extras, the websocket recheck).
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.conf import global_settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, update_last_login
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import LoginFailure, User, UserScope
from apps.accounts.services import create_or_update_user
from apps.sync import registry, services
from apps.sync.models import OutboxEvent, ReceivedEvent, SyncState
from tests.sync.procs import PYTHON, ROOT, base_env, forwarder_env, run_sync_once

PASSWORD = "Hub-made-pass-2026"


# --- helpers ------------------------------------------------------------------------------------------------------
def hub_shell(sync_dbs, hub, code: str) -> dict:
    """Run ``code`` in a Django shell on the hub's database (EDGE_ROLE=hub); it prints one JSON line. The hub's feed
    holds back events younger than SYNC_PULL_SETTLE_SECONDS: they are aged instead of waited for."""
    env = base_env(EDGE_ROLE="hub", EDGE_ID="hub", DATABASE_URL=sync_dbs[1])
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    hub.query("UPDATE sync_outboxevent SET created_at = created_at - interval '1 minute' "
              "WHERE created_at > now() - interval '1 minute' RETURNING sequence")
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def pull(hub, sync_dbs, settings):
    """``pull()``: one ``run_sync --once`` at the edge (push, then pull the hub's feed)."""
    # Both boxes hash passwords the same way (the project's hashers; the suite's autouse fixture sets a fast one for
    # the test process only, which could not check the hub's hashes).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    settings.EDGE_ID = f"edge-users-{uuid.uuid4().hex[:8]}"
    token = hub.issue_token(settings.EDGE_ID)

    def run():
        result = run_sync_once(forwarder_env(sync_dbs[0], hub.url, token, settings.EDGE_ID))
        assert result.returncode == 0, result.stderr
    return run


def role_and_scopes(user: User):
    user = User.objects.get(pk=user.pk)
    groups = set(user.groups.values_list("name", flat=True))
    return groups, set(UserScope.objects.filter(user=user).values_list("kind", "code"))


def jwt_login(username: str, password: str) -> int:
    return APIClient().post("/api/auth/login", {"username": username, "password": password}, format="json").status_code


def row(user_id) -> dict:
    return {k: v for k, v in User.objects.filter(pk=user_id).values()[0].items()}


HUB_USER = """
import json
from django.utils import timezone
from apps.accounts.models import LoginFailure, User
from apps.accounts.services import create_or_update_user
u, _ = create_or_update_user({name!r}, "operator", password={password!r}, fields=["NORTH"], email="u@example.com")
User.objects.filter(pk=u.pk).update(last_login=timezone.now())   # a login at the hub
u.refresh_from_db()
u.last_login = timezone.now()
u.save(update_fields=["last_login"])                             # the way a login saves it: no sync event
LoginFailure.objects.create(username={name!r}, ip="10.0.0.9", at=timezone.now())
print(json.dumps({{"id": str(u.pk), "password": u.password}}))
"""

HUB_CHANGE = """
import json
from apps.accounts.models import User, UserScope
u = User.objects.get(username={name!r})
u.set_role("supervisor")
u.save()
u.scopes.all().delete()
UserScope.objects.create(user=u, kind="site", code="PAD-A")
print(json.dumps({{"ok": True}}))
"""

HUB_DEACTIVATE = """
import json
from apps.accounts.models import User
u = User.objects.get(username={name!r})
u.is_active = False
u.save()
print(json.dumps({{"ok": True}}))
"""


# --- real hub process, pull at the edge ----------------------------------------------------------------------------
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_hub_user_arrives_with_role_scope_and_password_then_changes_follow(hub, sync_dbs, pull):
    tag = uuid.uuid4().hex[:6]
    name = f"op-{tag}"
    # Edge-local accounts: the SCADA service account and a break-glass administrator, never sent by the hub.
    scada, _ = create_or_update_user(f"scada-{tag}", "scada", password="Tundra-Falcon-8841", all_fields=True)
    glass, _ = create_or_update_user(f"glass-{tag}", "admin", password="Copper-Heron-5532")
    local_before = {scada.pk: row(scada.pk), glass.pk: row(glass.pk)}

    made = hub_shell(sync_dbs, hub, HUB_USER.format(name=name, password=PASSWORD))
    feed = hub.query("SELECT payload FROM sync_outboxevent WHERE aggregate_id = %s ORDER BY sequence", (made["id"],))
    assert feed and all("last_login" not in p for (p,) in feed)
    assert feed[-1][0]["_extras"] == {"role": "operator", "scopes": [{"field": "NORTH"}]}
    pull()

    user = User.objects.get(username=name)
    assert str(user.pk) == made["id"]  # the same id as at the hub
    assert user.password == made["password"] and user.email == "u@example.com"
    assert role_and_scopes(user) == ({"operator"}, {("field", "NORTH")})
    assert User.objects.get(pk=user.pk).role == "operator" and not user.is_staff and not user.is_superuser
    assert user.last_login is None  # the hub's login did not travel
    assert not LoginFailure.objects.filter(username=name).exists()  # nor its lockout rows
    assert jwt_login(name, PASSWORD) == 200  # signs in at the edge with the hub's password
    assert authenticate(username=name, password=PASSWORD).pk == user.pk
    update_last_login(None, User.objects.get(pk=user.pk))  # a session sign-in at the edge (what login() does)
    LoginFailure.objects.create(username=name, ip="10.1.1.1", at=timezone.now())  # and a failed one
    edge_login = User.objects.get(pk=user.pk).last_login
    assert edge_login is not None
    assert not OutboxEvent.objects.filter(aggregate_type="accounts.user").exists()  # the edge sends no user events

    # A role and scope change at the hub reaches the edge; the edge's last_login stays the edge's.
    hub_shell(sync_dbs, hub, HUB_CHANGE.format(name=name))
    pull()
    assert role_and_scopes(user) == ({"supervisor"}, {("site", "PAD-A")})
    after = User.objects.get(pk=user.pk)
    assert after.is_staff and after.last_login == edge_login  # the edge's login and lockout state stay the edge's
    assert LoginFailure.objects.filter(username=name).count() == 1
    assert jwt_login(name, PASSWORD) == 200

    # Idempotent re-pull: the whole feed again from cursor 0 changes nothing.
    snapshot = (row(user.pk), role_and_scopes(user), User.objects.count(), UserScope.objects.count())
    SyncState.objects.filter(key="default").update(pull_cursor=0)
    pull()
    assert (row(user.pk), role_and_scopes(user), User.objects.count(), UserScope.objects.count()) == snapshot
    assert ReceivedEvent.objects.filter(edge_id="hub", aggregate_id=str(user.pk)).count() == len(
        hub.query("SELECT 1 FROM sync_outboxevent WHERE aggregate_id = %s", (made["id"],)))

    # Deactivation at the hub takes effect at the edge.
    hub_shell(sync_dbs, hub, HUB_DEACTIVATE.format(name=name))
    pull()
    assert not User.objects.get(pk=user.pk).is_active
    assert authenticate(username=name, password=PASSWORD) is None
    assert jwt_login(name, PASSWORD) == 401

    # The edge-local accounts were never touched.
    assert {pk: row(pk) for pk in local_before} == local_before
    assert role_and_scopes(scada)[0] == {"scada"} and role_and_scopes(glass)[0] == {"admin"}
    assert f"accounts.user:{user.pk}" not in services.pull_rejections()["open"]


HUB_CAROL = """
import json
from apps.accounts.services import create_or_update_user
u, _ = create_or_update_user({name!r}, "viewer", password={password!r}, fields=["SOUTH"])
print(json.dumps({{"id": str(u.pk)}}))
"""

HUB_TOUCH = """
import json
from apps.accounts.models import User
u = User.objects.get(username={name!r})
u.first_name = "Carol"
u.save()
print(json.dumps({{"ok": True}}))
"""


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_username_taken_by_a_local_account_is_rejected_and_reported(hub, sync_dbs, pull):
    name = f"carol-{uuid.uuid4().hex[:6]}"
    # Made at the edge during an outage, before the hub made its own "carol".
    local, _ = create_or_update_user(name, "operator", password="Granite-Osprey-7719", fields=["NORTH"])
    before = row(local.pk)
    made = hub_shell(sync_dbs, hub, HUB_CAROL.format(name=name, password=PASSWORD))
    assert made["id"] != str(local.pk)

    pull()
    assert row(local.pk) == before and role_and_scopes(local) == ({"operator"}, {("field", "NORTH")})
    assert not User.objects.filter(pk=made["id"]).exists()
    assert authenticate(username=name, password="Granite-Osprey-7719").pk == local.pk
    status = services.status()["status"]
    assert status["pull_rejected_count"] == 1  # one record (each of its events was rejected and counted)
    sent = hub.query("SELECT count(*) FROM sync_outboxevent WHERE aggregate_id = %s", (made["id"],))[0][0]
    assert services.pull_rejections()["total"] == sent
    assert "already belongs to another account on this box" in status["last_pull_rejection"]
    assert status["alert"]["level"] == "warning"
    assert any("hub records not applied here" in r for r in status["alert"]["reasons"])

    # Resolved at the edge (the local account renamed), then the hub sends the user again: it applies, report closes.
    User.objects.filter(pk=local.pk).update(username=f"{name}-local")
    hub_shell(sync_dbs, hub, HUB_TOUCH.format(name=name))
    pull()
    arrived = User.objects.get(pk=made["id"])
    assert arrived.username == name and arrived.first_name == "Carol"
    assert role_and_scopes(arrived) == ({"viewer"}, {("field", "SOUTH")})
    assert services.status()["status"]["pull_rejected_count"] == 0
    assert services.pull_rejections()["total"] == sent


# --- in-process: the hub's events -----------------------------------------------------------------------------------
def user_events(user) -> list[dict]:
    return list(OutboxEvent.objects.filter(aggregate_type="accounts.user", aggregate_id=str(user.pk))
                .order_by("sequence").values_list("payload", flat=True))


@pytest.mark.django_db(transaction=True)
def test_role_scope_and_password_changes_emit_user_events_at_the_hub(settings):
    settings.EDGE_ROLE, settings.EDGE_ID = "hub", "hub"
    user, _ = create_or_update_user("hub-dora", "operator", password=PASSWORD, fields=["NORTH"])
    events = user_events(user)
    assert events[-1]["_extras"] == {"role": "operator", "scopes": [{"field": "NORTH"}]}
    assert events[-1]["password"] == User.objects.get(pk=user.pk).password
    assert "last_login" not in events[-1]

    def emitted(change) -> list[dict]:
        before = len(user_events(user))
        change()
        return user_events(user)[before:]

    assert emitted(lambda: user.set_role("viewer"))[-1]["_extras"]["role"] == "viewer"  # m2m_changed
    assert emitted(lambda: UserScope.objects.create(user=user, kind="site", code="PAD-A"))[-1]["_extras"][
        "scopes"] == [{"field": "NORTH"}, {"site": "PAD-A"}]
    assert emitted(lambda: UserScope.objects.filter(code="NORTH").delete())[-1]["_extras"]["scopes"] == [
        {"site": "PAD-A"}]
    assert emitted(lambda: Group.objects.get(name="viewer").user_set.remove(user))[-1]["_extras"]["role"] is None
    user.set_role("supervisor")
    assert emitted(lambda: Group.objects.get(name="supervisor").user_set.clear())[-1]["_extras"]["role"] is None

    def new_password():
        user.set_password("Another-pass-2026")
        user.save()
    assert emitted(new_password)[-1]["password"] == User.objects.get(pk=user.pk).password

    def login():
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
    assert emitted(login) == []  # last_login does not travel: a login writes no event


@pytest.mark.django_db
def test_users_made_at_an_edge_write_no_event(settings):
    settings.EDGE_ROLE = "edge"
    user, _ = create_or_update_user("edge-erin", "operator", password=PASSWORD, fields=["NORTH"])
    user.set_role("viewer")
    assert user_events(user) == []


# --- in-process: the edge's applier ---------------------------------------------------------------------------------
def hub_event(user, sequence: int, **changes) -> dict:
    spec = registry.spec_for("accounts.user")
    payload = registry.serialize(spec, user)
    payload.update(changes)
    return {"event_id": str(uuid.uuid4()), "sequence": sequence, "aggregate_type": "accounts.user",
            "aggregate_id": str(user.pk), "op": "upsert", "payload": payload}


@pytest.mark.django_db
def test_bad_extras_are_rejected_and_the_rest_of_the_page_applies(settings):
    settings.EDGE_ROLE = "edge"
    a, _ = create_or_update_user("edge-ann", "viewer", password=PASSWORD)
    b, _ = create_or_update_user("edge-bob", "viewer", password=PASSWORD)
    bad = hub_event(a, 10, first_name="A", _extras={"role": "emperor", "scopes": []})
    odd = hub_event(b, 11, _extras={"role": "viewer", "scopes": [{"well": "W-1"}]})
    good = hub_event(b, 12, first_name="Bob", _extras={"role": "operator", "scopes": [{"field": "EAST"}]})
    results = services.apply_events([bad, odd, good], services.HUB_ORIGIN)
    assert [r["status"] for r in results] == ["rejected", "accepted", "accepted"]  # odd: superseded by good
    assert "unknown role 'emperor'" in results[0]["reason"]
    assert User.objects.get(pk=a.pk).first_name == ""  # the refused record's row rolled back with its extras
    assert role_and_scopes(b) == ({"operator"}, {("field", "EAST")})
    results = services.apply_events([hub_event(b, 13, _extras={"role": "viewer", "scopes": [{"well": "W-1"}]})],
                                    services.HUB_ORIGIN)
    assert results[0]["status"] == "rejected" and "not a field or site code" in results[0]["reason"]


@pytest.mark.django_db(transaction=True)
def test_pulled_deactivation_closes_the_users_open_hmi_socket(settings, monkeypatch):
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from rest_framework_simplejwt.tokens import AccessToken

    from erp.asgi import application
    from scada.hmi.consumers import HmiConsumer

    settings.EDGE_ROLE = "edge"
    monkeypatch.setattr(HmiConsumer, "RECHECK_S", 0.2)
    user, _ = create_or_update_user("edge-hank", "operator", password=PASSWORD, fields=["NORTH"])
    deactivation = hub_event(user, 50, is_active=False)

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/hmi/", headers=[(b"origin", b"http://testserver")])
        assert (await comm.connect(timeout=10))[0]
        await comm.send_json_to({"type": "auth", "token": str(AccessToken.for_user(user))})
        assert (await comm.receive_json_from(timeout=10))["type"] == "ready"
        assert await comm.receive_nothing(timeout=0.6)  # the recheck runs every 0.2 s: still active, still open
        results = await database_sync_to_async(services.apply_events)(
            [deactivation], services.HUB_ORIGIN)
        closed = await comm.receive_output(timeout=10)
        await comm.disconnect()
        return results, closed

    results, closed = async_to_sync(scenario)()
    assert results[0]["status"] == "accepted"
    assert closed == {"type": "websocket.close", "code": 4401}
