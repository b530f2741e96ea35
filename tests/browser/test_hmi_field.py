"""The whole chain, from the field to the glass: a real pymodbus RTU (the simulator) is polled by a real ``run_scada``
process, whose alarm engine and live publisher reach daphne over a real Redis, and Chromium shows it.

An operator sees a value changed at the simulator, sees the HH alarm it raises in the banner, acknowledges it and
finds the journal entry; a viewer on the same display has no acknowledge button, and an ``ack`` forged over the
viewer's own websocket is refused and audited.
"""

import json
import sys

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect

from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal
from scada.drivers.modbus import encode
from tests.browser.conftest import ARTIFACTS, launch_chromium, process, server_env, wait_until
from tests.browser.test_hmi import PASSWORD, in_thread, login
from tests.scada.helpers import make_device, make_tag
from tests.scada.servers import ModbusServerThread

pytestmark = pytest.mark.browser


@pytest.fixture
def field(transactional_db):
    from apps.accounts.services import create_or_update_user
    from apps.wells.models import Field, Site, Well

    rtu = ModbusServerThread().start()
    north = Field.objects.create(code="NORTH", name="North")
    site = Site.objects.create(field=north, code="PAD-A", name="Pad A")
    well = Well.objects.create(site=site, name="W01", uwi="UWI-W01", status="producing")
    device = make_device(site, port=rtu.port, poll_ms=200, timeout_s=1.0)
    thp = make_tag(device, name="W01.THP", register_type="holding", address=0, data_type="float32",
                   eng_low=0, eng_high=350, unit="bar", well=well)
    AlarmDefinition.objects.create(tag=thp, kind="HH", setpoint=300, priority="critical",
                                   message="Tubing head pressure high-high", operator_action="Close the choke")
    rtu.set("holding", 0, encode(180.0, "float32"))
    users = {}
    for role in ("operator", "viewer"):
        user, _ = create_or_update_user(f"{role}-f", role, fields=["NORTH"])
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
        user.save()
        users[role] = user
    create_or_update_user("scada", "scada")
    yield {"rtu": rtu, "thp": thp, **users}
    rtu.close()


@pytest.fixture
def gateway(field, redis_url, settings):
    """``manage.py run_scada`` in its own process, on the test database, publishing through the real Redis."""
    env = server_env(redis_url, settings.SECRET_KEY, SCADA_FLUSH_MS="100")
    with process([sys.executable, "manage.py", "run_scada"], env, "run_scada-field.log") as proc:
        yield proc


def _rtu_writes(field, value):
    field["rtu"].set("holding", 0, encode(value, "float32"))


def _forged_ack(base_url, cookies, alarm_id):
    """The viewer's own socket (its session cookie, its origin) sends an ack: what a crafted client would do."""
    from websockets.sync.client import connect

    cookie = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
    url = base_url.replace("http://", "ws://") + "/ws/hmi/"
    with connect(url, additional_headers={"Cookie": cookie, "Origin": base_url}, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "ack", "id": str(alarm_id)}))
        while True:
            message = json.loads(ws.recv(timeout=10))
            if message.get("type") == "result":
                return message


def test_field_change_reaches_the_operator_and_the_hh_alarm_is_acknowledged(field, gateway, live_server_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        operator_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        viewer_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        operator, viewer = operator_ctx.new_page(), viewer_ctx.new_page()
        try:
            login(operator, live_server_url, "operator-f")
            login(viewer, live_server_url, "viewer-f")
            pv = operator.locator('.bar-row .pv[data-tag="W01.THP"]')
            expect(pv).to_have_text("180.0", timeout=15000)  # the gateway is polling the RTU

            _rtu_writes(field, 212.5)  # a change at the simulator...
            expect(pv).to_have_text("212.5", timeout=1000)  # ...on the operator's screen within 1 s

            _rtu_writes(field, 321.0)  # above the HH limit of 300 bar
            operator.wait_for_selector("#site-alarms tr.alarm-row.UNACKED", timeout=10000)
            expect(operator.locator("#alarm-banner")).to_contain_text("Tubing head pressure high-high")
            assert operator.inner_text('#alarm-banner b[data-prio="critical"]') == "1"
            operator.screenshot(path=str(ARTIFACTS / "hmi-field-hh-alarm.png"), full_page=True)

            viewer.wait_for_selector("#site-alarms tr.alarm-row.UNACKED", timeout=10000)
            assert viewer.locator("#site-alarms button.ack").count() == 0  # a viewer has no acknowledge button
            alarm = in_thread(lambda: Alarm.objects.get(definition__tag=field["thp"]))
            refused = _forged_ack(live_server_url, viewer_ctx.cookies(), alarm.pk)
            assert refused["ok"] is False and refused["error"] == "permission_denied"
            assert in_thread(lambda: Alarm.objects.get(pk=alarm.pk).state) == "UNACKED"

            operator.click("#site-alarms button.ack")
            operator.wait_for_selector("#site-alarms tr.alarm-row.ACKED", timeout=10000)
            viewer.wait_for_selector("#site-alarms tr.alarm-row.ACKED", timeout=10000)  # pushed to every screen
            assert wait_until(lambda: in_thread(lambda: AlarmJournal.objects.filter(
                event="ack", actor_name="operator-f").exists()))
            operator.goto(f"{live_server_url}/alarms/")
            expect(operator.locator("body")).to_contain_text("operator-f")
            operator.screenshot(path=str(ARTIFACTS / "hmi-field-journal.png"), full_page=True)
        finally:
            operator_ctx.close()
            viewer_ctx.close()
            browser.close()

    from apps.core.models import AuditEvent

    denied = in_thread(lambda: list(AuditEvent.objects.filter(action="permission_denied", actor__username="viewer-f")
                                    .values_list("message", flat=True)))
    assert any("websocket ack" in m for m in denied)
