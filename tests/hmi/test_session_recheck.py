"""/ws/hmi/ keeps its user honest through the base consumer (apps.core.consumers.AuthenticatedJsonConsumer): a
disabled operator's open HMI page is closed (4401), and a command sent before the periodic recheck is refused, not
carried out with the stale user object the socket authenticated with."""

from datetime import UTC, datetime

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.services import create_or_update_user
from scada.models import CurrentValue
from tests.scada.helpers import make_device, make_tag

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = [(b"origin", b"http://testserver")]
WAIT = 10


@pytest.fixture
def pad(transactional_db):
    from apps.wells.models import Field, Site

    field = Field.objects.create(code="FR", name="Recheck field")
    site = Site.objects.create(field=field, code="SR1", name="Recheck pad")
    tag = make_tag(make_device(site), name="R01.THP", eng_low=0, eng_high=350, unit="bar", writable=True)
    CurrentValue.objects.create(tag=tag, tag_key=tag.key, value=12.0, quality=0, ts=datetime.now(UTC))
    operator, _ = create_or_update_user("recheck-operator", "operator", fields=["FR"])
    return {"tag": tag, "operator": operator}


def _disable(user):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


async def _connect(user):
    from erp.asgi import application

    comm = WebsocketCommunicator(application, "/ws/hmi/", headers=ORIGIN)
    assert (await comm.connect())[0]
    await comm.send_json_to({"type": "auth", "token": str(AccessToken.for_user(user))})
    assert (await comm.receive_json_from(timeout=WAIT))["type"] == "ready"
    await comm.send_json_to({"type": "subscribe", "tags": ["R01.THP"]})
    assert (await comm.receive_json_from(timeout=WAIT))["type"] == "snapshot"
    return comm


@override_settings(HMI_NO_POLL=True)
def test_a_disabled_operator_cannot_write_a_setpoint_from_an_open_page(pad):
    from scada.models import WriteCommand

    async def scenario():
        comm = await _connect(pad["operator"])
        await database_sync_to_async(_disable)(pad["operator"])
        await comm.send_json_to({"type": "write", "tag": "R01.THP", "value": 80})
        answer = await comm.receive_output(timeout=WAIT)
        await comm.wait()
        return answer

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}
    assert not WriteCommand.objects.exists()


@override_settings(HMI_NO_POLL=True)
def test_hmi_socket_closes_when_the_operator_is_disabled(pad, monkeypatch):
    from apps.core.consumers import AuthenticatedJsonConsumer

    monkeypatch.setattr(AuthenticatedJsonConsumer, "RECHECK_S", 0.1, raising=False)  # the one recheck, in the base

    async def scenario():
        comm = await _connect(pad["operator"])
        await database_sync_to_async(_disable)(pad["operator"])
        closed = await comm.receive_output(timeout=WAIT)
        await comm.wait()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}


@override_settings(HMI_NO_POLL=True)
def test_a_signed_out_browsers_open_hmi_page_cannot_write_a_setpoint(pad):
    """Signed in by the session cookie, then signed out (the session row is deleted): the write sent from the page
    still open is refused (4401) before the periodic recheck, not carried out for a session that no longer exists."""
    from django.test import Client
    from django.urls import reverse

    from scada.models import WriteCommand

    browser = Client()
    browser.force_login(pad["operator"])
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()

    async def scenario():
        from erp.asgi import application

        comm = WebsocketCommunicator(application, "/ws/hmi/", headers=ORIGIN + [(b"cookie", cookie)])
        assert (await comm.connect())[0]
        assert (await comm.receive_json_from(timeout=WAIT))["type"] == "ready"
        await comm.send_json_to({"type": "subscribe", "tags": ["R01.THP"]})
        assert (await comm.receive_json_from(timeout=WAIT))["type"] == "snapshot"
        await database_sync_to_async(browser.post)(reverse("accounts:logout"))
        await comm.send_json_to({"type": "write", "tag": "R01.THP", "value": 80})
        answer = await comm.receive_output(timeout=WAIT)
        await comm.wait()
        return answer

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}
    assert not WriteCommand.objects.exists()
