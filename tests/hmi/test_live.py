"""/ws/hmi/ against the real ASGI app: snapshot, coalesced live values from the gateway publisher, alarms, scope,
commands authorised and audited like the API, token expiry; and the same through a real Redis channel layer."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.services import create_or_update_user
from scada.alarms.models import Alarm, AlarmDefinition
from scada.hmi.publisher import LivePublisher
from scada.models import CurrentValue
from scada.runtime.samples import Sample
from tests.scada.helpers import make_device, make_tag

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = [(b"origin", b"http://testserver")]
# Every wait for a message the consumer will send (the communicator's default is 1 s: a loaded CI machine can take
# longer to run the consumer's database work in its thread). Waits that expect nothing stay short.
WAIT = 10


@pytest.fixture
def plant(transactional_db):
    from apps.wells.models import Field, Site

    fa = Field.objects.create(code="FA", name="A")
    fb = Field.objects.create(code="FB", name="B")
    sa = Site.objects.create(field=fa, code="SA1", name="Pad A")
    sb = Site.objects.create(field=fb, code="SB1", name="Pad B")
    thp = make_tag(make_device(sa), name="W01.THP", eng_low=0, eng_high=350, unit="bar")
    other = make_tag(make_device(sb), name="W90.THP", eng_low=0, eng_high=350, unit="bar")
    CurrentValue.objects.create(tag=thp, tag_key=thp.key, value=123.4, quality=0, ts=datetime.now(UTC))
    users = {role: create_or_update_user(f"hmi-{role}", role, fields=["FA"])[0] for role in ("operator", "viewer")}
    return {"site_a": sa, "site_b": sb, "thp": thp, "other": other, **users}


def run(fn):
    return async_to_sync(fn)()


async def connect(user, token=None):
    """An authenticated socket; ``token`` may be a callable, called once the socket is open (a short-lived token
    is then made just before it is sent, not before the application is imported and the socket accepted)."""
    from erp.asgi import application

    comm = WebsocketCommunicator(application, "/ws/hmi/", headers=ORIGIN)
    assert (await comm.connect(timeout=WAIT))[0]
    token = token() if callable(token) else token
    await comm.send_json_to({"type": "auth", "token": token or str(AccessToken.for_user(user))})
    assert (await comm.receive_json_from(timeout=WAIT))["type"] == "ready"
    return comm


@override_settings(HMI_NO_POLL=True)
def test_snapshot_then_coalesced_values_from_the_publisher_and_scope(plant):
    async def scenario():
        comm = await connect(plant["operator"])
        await comm.send_json_to({"type": "subscribe", "tags": ["W01.THP", "W90.THP"]})
        snapshot = await comm.receive_json_from(timeout=WAIT)
        publisher = LivePublisher(tick_s=0.01)
        now = time.time()
        # Three samples of one tag in one tick: ONE message carrying the latest value; field B never arrives.
        await publisher(
            [Sample(plant["thp"].key, now, 120.0), Sample(plant["thp"].key, now + 0.1, 121.0),
             Sample(plant["other"].key, now, 99.0), Sample(plant["thp"].key, now + 0.2, 122.5)], None)
        publisher._task.cancel()
        sent = await publisher.flush(get_channel_layer())
        values = await comm.receive_json_from(timeout=WAIT)
        nothing = await comm.receive_nothing(timeout=0.3)
        await comm.disconnect(timeout=WAIT)
        return snapshot, values, nothing, sent

    snapshot, values, nothing, sent = run(scenario)
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 2
    assert [(v["tag"], v["value"]) for v in snapshot["values"]] == [("W01.THP", 123.4)]
    assert snapshot["unknown"] == ["W90.THP"]  # outside the user's field: as if it did not exist
    assert values["type"] == "values" and values["seq"] == 3
    assert [(v["tag"], v["value"], v["quality"]) for v in values["values"]] == [("W01.THP", 122.5, 0)]
    assert nothing and sent == 2  # one message per site group


@override_settings(HMI_NO_POLL=True)
def test_ack_over_the_socket_is_authorised_and_audited_and_viewers_are_refused(plant):
    from apps.core.models import AuditEvent
    from scada.alarms import services

    defn = AlarmDefinition.objects.create(tag=plant["thp"], kind="HH", setpoint=100, message="High-high THP")
    alarm = services.ensure_alarm(defn)
    with services.transaction.atomic():
        services.transition(alarm, "raise", value=150.0)

    async def scenario():
        viewer = await connect(plant["viewer"])
        await viewer.send_json_to({"type": "subscribe", "site": "SA1"})
        snap = await viewer.receive_json_from(timeout=WAIT)
        await viewer.send_json_to({"type": "ack", "id": str(alarm.pk)})  # a forged ack
        refused = await viewer.receive_json_from(timeout=WAIT)
        operator = await connect(plant["operator"])
        await operator.send_json_to({"type": "subscribe", "site": "SA1"})
        await operator.receive_json_from(timeout=WAIT)
        await operator.send_json_to({"type": "ack", "id": str(alarm.pk), "comment": "from the panel"})
        messages = [await operator.receive_json_from(timeout=WAIT) for _ in range(2)]
        pushed_to_viewer = await viewer.receive_json_from(timeout=WAIT)
        await viewer.disconnect(timeout=WAIT)
        await operator.disconnect(timeout=WAIT)
        return snap, refused, messages, pushed_to_viewer

    snap, refused, messages, pushed = run(scenario)
    assert [a["state"] for a in snap["alarms"]] == ["UNACKED"]
    assert refused == {"type": "result", "command": "ack", "ok": False, "error": "permission_denied",
                       "message": refused["message"], "seq": refused["seq"]}
    assert {m["type"] for m in messages} == {"result", "alarm"}
    result = next(m for m in messages if m["type"] == "result")
    assert result["ok"] is True
    assert pushed["type"] == "alarm" and pushed["alarm"]["state"] == "ACKED" and pushed["alarm"]["by"] == "hmi-operator"
    assert Alarm.objects.get(pk=alarm.pk).state == "ACKED"
    assert AuditEvent.objects.filter(action="permission_denied", actor=plant["viewer"]).exists()
    assert AuditEvent.objects.filter(action="transition", actor=plant["operator"], channel="ui").exists()


@override_settings(HMI_NO_POLL=True)
def test_write_over_the_socket_queues_a_range_checked_command(plant):
    from scada.models import WriteCommand

    plant["thp"].writable = True
    plant["thp"].save()

    async def scenario():
        comm = await connect(plant["operator"])
        await comm.send_json_to({"type": "write", "tag": "W01.THP", "value": 500})
        too_high = await comm.receive_json_from(timeout=WAIT)
        await comm.send_json_to({"type": "write", "tag": "W01.THP", "value": 80})
        ok = await comm.receive_json_from(timeout=WAIT)
        await comm.send_json_to({"type": "write", "tag": "W90.THP", "value": 80})
        other_field = await comm.receive_json_from(timeout=WAIT)
        await comm.disconnect(timeout=WAIT)
        return too_high, ok, other_field

    too_high, ok, other_field = run(scenario)
    assert too_high["ok"] is False and too_high["error"] == "validation_error"
    assert ok["ok"] is True
    assert other_field["error"] == "not_found"
    assert list(WriteCommand.objects.values_list("value", flat=True)) == [80.0]


def test_socket_closes_when_the_token_expires(plant):
    def short_lived():
        # "exp" is in whole seconds (rounded down): a 1 s lifetime leaves anything between 0 and 1 s, and the token
        # could expire before the auth message was handled. 2 s leaves at least 1 s for that, then expires while
        # the socket is open.
        token = AccessToken.for_user(plant["viewer"])
        token.set_exp(lifetime=timedelta(seconds=2))
        return str(token)

    async def scenario():
        comm = await connect(plant["viewer"], token=short_lived)
        return await comm.receive_output(timeout=2 + WAIT)

    assert run(scenario) == {"type": "websocket.close", "code": 4401}


def test_without_a_shared_layer_the_consumer_polls_current_values(plant):
    async def scenario():
        comm = await connect(plant["operator"])
        await comm.send_json_to({"type": "subscribe", "tags": ["W01.THP"]})
        await comm.receive_json_from(timeout=WAIT)

        def gateway_writes():
            CurrentValue.objects.filter(tag=plant["thp"]).update(value=200.0, updated_at=datetime.now(UTC))

        await database_sync_to_async(gateway_writes)()
        update = await comm.receive_json_from(timeout=WAIT)
        await comm.disconnect(timeout=WAIT)
        return update

    update = run(scenario)
    assert update["type"] == "values" and update["values"][0]["value"] == 200.0


def test_values_cross_processes_through_a_real_redis(plant, redis_url):
    # redis-py 8 reads with a 5 s socket timeout by default, the length of channels_redis's blocking BZPOPMIN: a
    # consumer idle for 5 s then dies with "Timeout reading from" (channels_redis#422). Reads must outlast it.
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                          "CONFIG": {"hosts": [{"address": redis_url, "socket_timeout": 15}]}}}

    async def scenario():
        comm = await connect(plant["operator"])
        await comm.send_json_to({"type": "subscribe", "tags": ["W01.THP"]})
        await comm.receive_json_from(timeout=WAIT)
        publisher = LivePublisher(tick_s=0.01)
        await publisher([Sample(plant["thp"].key, time.time(), 77.0)], None)
        publisher._task.cancel()
        await publisher.flush(get_channel_layer())
        got = await comm.receive_json_from(timeout=WAIT)
        await comm.disconnect(timeout=WAIT)
        return got

    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        try:
            got = run(scenario)
        finally:
            channel_layers.backends.clear()
    assert got["values"] == [{"tag": "W01.THP", "value": 77.0, "quality": 0, "ts": got["values"][0]["ts"]}]


@override_settings(HMI_NO_POLL=True)
def test_site_subscription_gets_the_pre_encoded_batch(plant):
    from apps.wells.models import Site

    second = make_tag(plant["thp"].device, name="W01.CHP", address=10)

    async def scenario():
        comm = await connect(plant["operator"])
        await comm.send_json_to({"type": "subscribe", "site": "SA1"})
        await comm.receive_json_from(timeout=WAIT)
        publisher = LivePublisher(tick_s=3600)
        now = time.time()
        await publisher([Sample(plant["thp"].key, now, 1.5), Sample(second.key, now, 2.5),
                         Sample(plant["other"].key, now, 9.0)], None)
        publisher._task.cancel()
        await publisher.flush(get_channel_layer())
        got = await comm.receive_json_from(timeout=WAIT)
        nothing = await comm.receive_nothing(timeout=0.3)
        await comm.disconnect(timeout=WAIT)
        return got, nothing

    got, nothing = run(scenario)
    assert got["type"] == "values" and got["seq"] == 3
    assert sorted(v["tag"] for v in got["values"]) == ["W01.CHP", "W01.THP"]
    assert nothing  # the other field's site is another group
    assert Site.objects.count() == 2


def test_a_failed_push_keeps_the_values_for_the_next_tick(plant):
    import redis.exceptions
    from channels_redis.core import RedisChannelLayer

    from tests.servers import free_port

    down = RedisChannelLayer(hosts=[f"redis://127.0.0.1:{free_port()}/0"])  # a Redis that is not up

    async def scenario():
        publisher = LivePublisher(tick_s=3600)
        await publisher([Sample(plant["thp"].key, 1.0, 10.0)], None)
        publisher._task.cancel()
        with pytest.raises(redis.exceptions.ConnectionError):  # connection refused
            await publisher.flush(down)
        await publisher([Sample(plant["other"].key, 2.0, 11.0)], None)  # another tag changes meanwhile
        await publisher([Sample(plant["other"].key, 3.0, 12.0)], None)  # ...and the newest value wins
        publisher._task.cancel()
        return publisher.pending

    pending = run(scenario)
    assert pending == {plant["thp"].key: (10.0, 0, 1.0), plant["other"].key: (12.0, 0, 3.0)}


@override_settings(HMI_NO_POLL=True)
def test_a_value_published_while_subscribing_is_in_the_snapshot_or_delivered(plant, monkeypatch):
    """The gateway stores a value and publishes it just before the consumer joins the site group: the message does
    not reach this socket, so the snapshot must be read after the join (it then holds the value). Before, the
    snapshot was read first and the page kept the old value until the next change."""
    layer = get_channel_layer()
    real_group_add = type(layer).group_add

    async def gateway_writes_then_join(self, group, channel):
        await database_sync_to_async(
            lambda: CurrentValue.objects.filter(tag=plant["thp"]).update(value=222.2, ts=datetime.now(UTC)))()
        publisher = LivePublisher(tick_s=3600)
        await publisher([Sample(plant["thp"].key, time.time(), 222.2)], None)
        publisher._task.cancel()
        await publisher.flush(self)
        return await real_group_add(self, group, channel)

    monkeypatch.setattr(type(layer), "group_add", gateway_writes_then_join)

    async def scenario():
        comm = await connect(plant["operator"])
        await comm.send_json_to({"type": "subscribe", "site": "SA1"})
        snapshot = await comm.receive_json_from(timeout=WAIT)
        await comm.disconnect(timeout=WAIT)
        return snapshot

    snapshot = run(scenario)
    assert snapshot["type"] == "snapshot"
    assert [v["value"] for v in snapshot["values"] if v["tag"] == "W01.THP"] == [222.2]
