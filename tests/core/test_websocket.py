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
