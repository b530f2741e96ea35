"""A websocket signed in by the session cookie lives only as long as that session (apps.core.consumers.
AuthenticatedJsonConsumer, the base of /ws/notifications/ and /ws/hmi/): a logout (the session row is deleted), an
expired session, or a password change (the session's auth hash no longer matches) closes it with 4401, at the next
message from the page and at the periodic recheck, exactly when the browser's next HTTP request would be refused.
Real ASGI application, real PostgreSQL session rows, the real logout view."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]
WAIT = 5
CLOSED = {"type": "websocket.close", "code": 4401}


@pytest.fixture
def viewer(transactional_db):
    from apps.accounts.services import create_or_update_user

    user, _ = create_or_update_user("ws-session-viewer", "viewer")
    return user


@pytest.fixture
def quick_recheck(monkeypatch):
    from apps.core.consumers import AuthenticatedJsonConsumer

    monkeypatch.setattr(AuthenticatedJsonConsumer, "RECHECK_S", 0.1, raising=False)


def browser(user) -> Client:
    """A browser signed in with its own session (a row in django_session)."""
    client = Client()
    client.force_login(user)
    return client


async def open_socket(client: Client, path="/ws/notifications/"):
    from erp.asgi import application

    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    comm = WebsocketCommunicator(application, path, headers=ORIGIN + [(b"cookie", cookie)])
    assert (await comm.connect(timeout=WAIT))[0]
    assert (await comm.receive_json_from(timeout=WAIT))["type"] == "ready"
    if path == "/ws/notifications/":
        assert (await comm.receive_json_from(timeout=WAIT))["type"] == "snapshot"
    return comm


async def resync(comm):
    """Ask for a snapshot: the answer (a snapshot, or the close) after the base's per-message check."""
    await comm.send_json_to({"type": "resync"})
    return await comm.receive_output(timeout=WAIT)


def log_out(client: Client):
    """The browser's real sign-out (POST to the logout view: ``auth.logout`` flushes, i.e. deletes, the session)."""
    from django.contrib.sessions.models import Session

    key = client.cookies["sessionid"].value
    response = client.post(reverse("accounts:logout"))
    assert response.status_code in (200, 302)
    assert not Session.objects.filter(session_key=key).exists()


def expire(client: Client):
    from django.contrib.sessions.models import Session

    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1)) == 1


def change_password(user):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=user.pk)
    user.set_password("a-brand-new-passphrase-9")
    user.save()


def test_logout_closes_the_socket_at_its_next_message(viewer):
    """The periodic recheck (30 s by default) has not run yet: the message itself is refused."""
    client = browser(viewer)

    async def scenario():
        comm = await open_socket(client)
        before = await resync(comm)
        await database_sync_to_async(log_out)(client)
        after = await resync(comm)
        await comm.wait()
        return before, after

    before, after = async_to_sync(scenario)()
    assert before["type"] == "websocket.send" and '"snapshot"' in before["text"]
    assert after == CLOSED


@pytest.mark.usefixtures("quick_recheck")
def test_logout_closes_an_idle_socket_at_the_periodic_recheck(viewer):
    client = browser(viewer)

    async def scenario():
        comm = await open_socket(client)
        await database_sync_to_async(log_out)(client)
        closed = await comm.receive_output(timeout=WAIT)
        await comm.wait()
        return closed

    assert async_to_sync(scenario)() == CLOSED


@pytest.mark.usefixtures("quick_recheck")
def test_an_expired_session_closes_the_socket(viewer):
    client = browser(viewer)

    async def scenario():
        comm = await open_socket(client)
        await database_sync_to_async(expire)(client)
        closed = await comm.receive_output(timeout=WAIT)
        await comm.wait()
        return closed

    assert async_to_sync(scenario)() == CLOSED


@pytest.mark.usefixtures("quick_recheck")
def test_a_password_change_closes_the_socket(viewer):
    """The user is still active and the session row still exists: only its auth hash is stale (Django's get_user
    would log this browser out at its next request)."""
    client = browser(viewer)

    async def scenario():
        comm = await open_socket(client)
        await database_sync_to_async(change_password)(viewer)
        closed = await comm.receive_output(timeout=WAIT)
        await comm.wait()
        return closed

    assert async_to_sync(scenario)() == CLOSED
    viewer.refresh_from_db()
    assert viewer.is_active


def test_a_password_change_refuses_the_next_message(viewer):
    client = browser(viewer)

    async def scenario():
        comm = await open_socket(client)
        await database_sync_to_async(change_password)(viewer)
        refused = await resync(comm)
        await comm.wait()
        return refused

    assert async_to_sync(scenario)() == CLOSED


@pytest.mark.usefixtures("quick_recheck")
def test_a_still_valid_session_stays_open_when_another_browser_logs_out(viewer):
    """Same user, two browsers: signing out on the tablet closes the tablet's socket only; the panel PC's session is
    still valid, so its socket outlives the tablet's (which closed at a recheck) and still answers."""
    tablet, panel = browser(viewer), browser(viewer)

    async def scenario():
        tablet_ws = await open_socket(tablet)
        panel_ws = await open_socket(panel, "/ws/hmi/")
        await database_sync_to_async(log_out)(tablet)
        tablet_closed = await tablet_ws.receive_output(timeout=WAIT)
        await tablet_ws.wait()
        await panel_ws.send_json_to({"type": "ping"})  # checked like any command, then answered
        panel_answer = await panel_ws.receive_json_from(timeout=WAIT)
        await panel_ws.disconnect()
        return tablet_closed, panel_answer

    tablet_closed, panel_answer = async_to_sync(scenario)()
    assert tablet_closed == CLOSED
    assert panel_answer["type"] == "error" and panel_answer["error"] == "unknown_command"
