"""The websocket base against the real ASGI application (origin check, session/JWT auth, sequence numbers), and the
live notification push through the in-memory layer and through a real Redis (channels-redis)."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.services import notify

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]  # pytest-django allows the host "testserver"


def application():
    from erp.asgi import application as app

    return app


def run(coro_fn, *args):
    return async_to_sync(coro_fn)(*args)


@pytest.fixture
def viewer(transactional_db):
    from apps.accounts.services import create_or_update_user

    user, _ = create_or_update_user("ws-viewer", "viewer")
    return user


async def _connect(headers=ORIGIN):
    comm = WebsocketCommunicator(application(), "/ws/notifications/", headers=headers)
    connected, _ = await comm.connect()
    return comm, connected


def test_jwt_in_first_message_authenticates_and_messages_are_numbered(viewer):
    async def scenario():
        comm, connected = await _connect()
        assert connected
        await comm.send_json_to({"type": "auth", "token": str(AccessToken.for_user(viewer))})
        ready = await comm.receive_json_from()
        snapshot = await comm.receive_json_from()
        await comm.send_json_to({"type": "resync"})
        again = await comm.receive_json_from()
        await comm.disconnect()
        return ready, snapshot, again

    ready, snapshot, again = run(scenario)
    assert ready == {"type": "ready", "user": "ws-viewer", "role": "viewer", "seq": 1}
    assert snapshot == {"type": "snapshot", "unread": 0, "seq": 2}
    assert again["seq"] == 3


def test_bad_token_closes_with_4401(viewer):
    async def scenario():
        comm, _ = await _connect()
        await comm.send_json_to({"type": "auth", "token": "not-a-jwt"})
        output = await comm.receive_output()
        return output

    assert run(scenario) == {"type": "websocket.close", "code": 4401}


def test_commands_before_auth_close_the_socket(viewer):
    async def scenario():
        comm, _ = await _connect()
        await comm.send_json_to({"type": "ack", "id": "x"})
        return await comm.receive_output()

    assert run(scenario)["code"] == 4401


def test_foreign_origin_is_refused(viewer):
    async def scenario():
        comm, connected = await _connect(headers=[(b"origin", b"http://evil.example")])
        return connected

    assert run(scenario) is False


def test_session_cookie_authenticates_at_connect(viewer, client):
    client.force_login(viewer)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario():
        comm, connected = await _connect(headers=ORIGIN + [(b"cookie", cookie)])
        first = await comm.receive_json_from()
        await comm.disconnect()
        return connected, first

    connected, first = run(scenario)
    assert connected and first["type"] == "ready" and first["user"] == "ws-viewer"


def _push_scenario(viewer):
    async def scenario():
        from channels.db import database_sync_to_async

        comm, _ = await _connect()
        await comm.send_json_to({"type": "auth", "token": str(AccessToken.for_user(viewer))})
        await comm.receive_json_from()
        await comm.receive_json_from()
        await database_sync_to_async(notify)([viewer], "ESP trip on W03", "", "/scada/", "critical")
        pushed = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return pushed

    return run(scenario)


def test_new_notification_is_pushed_to_the_open_page(viewer):
    pushed = _push_scenario(viewer)
    assert pushed["type"] == "notification"
    assert pushed["notification"]["subject"] == "ESP trip on W03"
    assert pushed["unread"] == 1 and pushed["seq"] == 3


def test_push_goes_through_a_real_redis_channel_layer(viewer, redis_url):
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}}
    from channels.layers import channel_layers

    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        try:
            pushed = _push_scenario(viewer)
        finally:
            channel_layers.backends.clear()
    assert pushed["notification"]["subject"] == "ESP trip on W03"


# -- a live socket stays authenticated only while its user does (AuthenticatedJsonConsumer, for every consumer) ------
@pytest.fixture
def quick_recheck(monkeypatch):
    from apps.core.consumers import AuthenticatedJsonConsumer

    monkeypatch.setattr(AuthenticatedJsonConsumer, "RECHECK_S", 0.1, raising=False)


@pytest.fixture(params=["in-memory", "redis"])
def channel_layer(request):
    """The default in-memory layer, and a real Redis (channels-redis) as in production."""
    from channels.layers import channel_layers

    if request.param == "in-memory":
        yield request.param
        return
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                          "CONFIG": {"hosts": [request.getfixturevalue("redis_url")]}}}
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        try:
            yield request.param
        finally:
            channel_layers.backends.clear()


def _disable(user):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


async def _authenticated(token):
    comm, _ = await _connect()
    await comm.send_json_to({"type": "auth", "token": token})
    assert (await comm.receive_json_from(timeout=5))["type"] == "ready"
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    return comm


@pytest.mark.usefixtures("quick_recheck")
def test_notifications_socket_closes_when_the_user_is_disabled(viewer, channel_layer):
    from channels.db import database_sync_to_async

    async def scenario():
        comm = await _authenticated(str(AccessToken.for_user(viewer)))
        await database_sync_to_async(notify)([viewer], "Before", "", "/", "info")
        pushed = await comm.receive_json_from(timeout=5)  # live through the layer
        await database_sync_to_async(_disable)(viewer)
        closed = await comm.receive_output(timeout=5)
        await comm.wait()
        return pushed, closed

    pushed, closed = run(scenario)
    assert pushed["type"] == "notification"
    assert closed == {"type": "websocket.close", "code": 4401}


@pytest.mark.usefixtures("quick_recheck")
def test_notifications_socket_of_a_session_closes_when_the_user_is_disabled(viewer, client):
    from channels.db import database_sync_to_async

    client.force_login(viewer)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario():
        comm, _ = await _connect(headers=ORIGIN + [(b"cookie", cookie)])
        assert (await comm.receive_json_from(timeout=5))["type"] == "ready"
        assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
        await database_sync_to_async(_disable)(viewer)
        closed = await comm.receive_output(timeout=5)
        await comm.wait()
        return closed

    assert run(scenario) == {"type": "websocket.close", "code": 4401}


def test_notifications_socket_closes_when_the_token_expires(viewer):
    from datetime import timedelta

    token = AccessToken.for_user(viewer)
    token.set_exp(lifetime=timedelta(seconds=1))

    async def scenario():
        comm = await _authenticated(str(token))
        closed = await comm.receive_output(timeout=5)
        await comm.wait()
        return closed

    assert run(scenario) == {"type": "websocket.close", "code": 4401}


def test_a_disabled_users_message_is_refused_before_the_next_recheck(viewer):
    """A message from the client is checked first: no snapshot (or command) for a user disabled a moment ago, even
    though the periodic recheck (30 s by default) has not run yet."""
    from channels.db import database_sync_to_async

    async def scenario():
        comm = await _authenticated(str(AccessToken.for_user(viewer)))
        await comm.send_json_to({"type": "resync"})
        again = await comm.receive_json_from(timeout=5)
        await database_sync_to_async(_disable)(viewer)
        await comm.send_json_to({"type": "resync"})
        refused = await comm.receive_output(timeout=5)
        await comm.wait()
        return again, refused

    again, refused = run(scenario)
    assert again["type"] == "snapshot"
    assert refused == {"type": "websocket.close", "code": 4401}
