"""The HMI in Chromium: log in, see live values and an HH alarm arrive from the gateway side, acknowledge it, see the
journal; a viewer has no acknowledge button. Screenshots of L1, L2 and the alarm summary are saved."""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import override_settings
from playwright.sync_api import expect

from scada.alarms.gateway_hook import AlarmHook
from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal
from scada.hmi.publisher import LivePublisher
from scada.runtime.samples import Sample
from tests.browser.conftest import ARTIFACTS, wait_until
from tests.scada.helpers import make_device, make_tag

pytestmark = pytest.mark.browser
PASSWORD = "Wellhead-pass-2026"


@pytest.fixture
def plant(transactional_db):
    from apps.accounts.services import create_or_update_user
    from apps.wells.models import Field, Site, Well

    field = Field.objects.create(code="NORTH", name="North")
    site = Site.objects.create(field=field, code="PAD-A", name="Pad A")
    well = Well.objects.create(site=site, name="W01", uwi="UWI-W01", status="producing")
    device = make_device(site)
    thp = make_tag(device, name="W01.THP", eng_low=0, eng_high=350, unit="bar", well=well)
    AlarmDefinition.objects.create(tag=thp, kind="HH", setpoint=300, priority="critical",
                                   message="Tubing head pressure high-high", operator_action="Close the choke")
    users = {}
    for role in ("operator", "viewer"):
        user, _ = create_or_update_user(f"{role}-b", role, fields=["NORTH"])
        # The server process uses the real (PBKDF2) hasher, not the tests' fast one.
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
        user.save()
        users[role] = user
    return {"thp": thp, **users}


def login(page, base, username):
    page.goto(f"{base}/accounts/login/?next=/hmi/site/PAD-A/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/hmi/site/PAD-A/")
    page.wait_for_selector("#link-state:text('live')", timeout=10000)


def in_thread(fn, *args):
    """Run database work in another thread: Playwright's sync API owns this thread's event loop."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def work():
        try:
            return fn(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result(timeout=30)


def gateway_publish(redis_url, samples, hook=None):
    in_thread(_gateway_publish, redis_url, samples, hook)


def _gateway_publish(redis_url, samples, hook=None):
    """The alarm engine, then the coalesced live push (over the real Redis)."""
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}}
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        try:
            if hook is not None:
                hook.run(samples)

            async def push():
                publisher = LivePublisher(tick_s=3600)
                await publisher(samples, None)
                publisher._task.cancel()
                await publisher.flush(get_channel_layer())
                await asyncio.sleep(0)

            async_to_sync(push)()
        finally:
            channel_layers.backends.clear()


def test_operator_sees_live_value_and_alarm_then_acknowledges(plant, live_server_url, browser_page, redis_url):
    page = browser_page
    login(page, live_server_url, "operator-b")
    pv = page.locator('.bar-row .pv[data-tag="W01.THP"]')

    gateway_publish(redis_url, [Sample(plant["thp"].key, time.time(), 212.5)])
    expect(pv).to_have_text("212.5", timeout=1000)  # within 1 s of the gateway publishing it

    hook = AlarmHook()
    gateway_publish(redis_url, [Sample(plant["thp"].key, time.time(), 320.0)], hook)
    page.wait_for_selector("#site-alarms tr.alarm-row.UNACKED", timeout=10000)
    assert "Tubing head pressure high-high" in page.inner_text("#alarm-banner")  # drawn with the row
    assert page.inner_text('#alarm-banner b[data-prio="critical"]') == "1"
    # The alarm message (pushed on the hook's commit) goes out before the values message: the row can be drawn
    # while the value is still on its way, so wait for it.
    expect(pv).to_have_text("320.0", timeout=10000)
    page.screenshot(path=str(ARTIFACTS / "hmi-L2-pad-alarm.png"), full_page=True)

    page.click("#site-alarms button.ack")
    page.wait_for_selector("#site-alarms tr.alarm-row.ACKED", timeout=10000)
    alarm = in_thread(lambda: Alarm.objects.select_related("acked_by").get(definition__tag=plant["thp"]))
    assert alarm.state == "ACKED" and alarm.acked_by == plant["operator"]
    assert wait_until(lambda: in_thread(
        lambda: AlarmJournal.objects.filter(event="ack", actor_name="operator-b").exists()))

    page.goto(f"{live_server_url}/alarms/")
    assert "Acknowledged" in page.content() and "operator-b" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "hmi-alarm-summary.png"), full_page=True)
    page.goto(f"{live_server_url}/hmi/")
    page.wait_for_selector("#link-state:text('live')", timeout=10000)
    page.screenshot(path=str(ARTIFACTS / "hmi-L1-overview.png"), full_page=True)


def test_viewer_has_no_acknowledge_button(plant, live_server_url, browser_page, redis_url):
    page = browser_page
    login(page, live_server_url, "viewer-b")
    gateway_publish(redis_url, [Sample(plant["thp"].key, time.time(), 330.0)], AlarmHook())
    page.wait_for_selector("#site-alarms tr.alarm-row", timeout=10000)
    assert page.locator("#site-alarms button.ack").count() == 0


def test_kiosk_mode_hides_the_chrome_and_marks_bad_values(plant, live_server_url, browser_page, redis_url):
    page = browser_page
    login(page, live_server_url, "operator-b")
    page.goto(f"{live_server_url}/hmi/site/PAD-A/?kiosk=1")
    page.wait_for_selector("#link-state:text('live')", timeout=10000)
    assert not page.locator("header.shell").is_visible()
    gateway_publish(redis_url, [Sample(plant["thp"].key, time.time(), None, 2)])
    page.wait_for_selector('.bar-row .pv.q-bad[data-tag="W01.THP"]', timeout=10000)
    page.screenshot(path=str(ARTIFACTS / "hmi-kiosk-bad-value.png"))


def test_trend_page_draws_history_and_appends_live_points(plant, live_server_url, browser_page, redis_url):
    from datetime import UTC, datetime, timedelta

    from scada import historian

    now = datetime.now(UTC)
    rows = [((now - timedelta(minutes=60 - i)).timestamp(), plant["thp"].key, 200.0 + i, 0) for i in range(60)]
    in_thread(historian.write_rows, rows)
    page = browser_page
    login(page, live_server_url, "operator-b")
    # The history answer is held back: the socket subscribes before the chart exists, and a value pushed then must
    # still be drawn (it is after the history's end).
    held = []
    page.route("**/api/v1/scada/tags/*/history*", lambda route: held.append(route))
    page.goto(f"{live_server_url}/hmi/trend/?tags=W01.THP&hours=4")
    page.wait_for_selector("#link-state:text('live')", timeout=10000)
    gateway_publish(redis_url, [Sample(plant["thp"].key, time.time(), 255.5)])
    expect(page.locator('.values .pv[data-tag="W01.THP"]')).to_have_text("255.5", timeout=10000)
    assert wait_until(lambda: held or page.wait_for_timeout(50), timeout=10)  # (the timeout lets routes through)
    assert page.locator("#trend canvas").count() == 0  # the chart is still waiting for its history
    for route in held:
        route.continue_()
    page.wait_for_selector("#trend canvas", timeout=10000)
    assert "W01.THP (bar)" in page.inner_text("#trend")
    expect(page.locator("#trend")).to_have_attribute("data-live-points", "1")

    gateway_publish(redis_url, [Sample(plant["thp"].key, time.time(), 256.0)])  # and appended once drawn
    expect(page.locator('.values .pv[data-tag="W01.THP"]')).to_have_text("256.0", timeout=10000)
    expect(page.locator("#trend")).to_have_attribute("data-live-points", "2")
    page.screenshot(path=str(ARTIFACTS / "hmi-L3-trend.png"), full_page=True)


def test_a_quiet_page_stays_subscribed(plant, live_server_url, browser_page, redis_url):
    """A panel whose values do not change for a while is still subscribed: the server's channel layer must not drop
    a consumer whose blocking read on Redis outlasts the client's socket timeout (redis-py 8 defaults it to 5 s, the
    length of channels_redis's BZPOPMIN). Neither socket of the page (HMI, notifications) is reopened."""
    page = browser_page
    login(page, live_server_url, "operator-b")
    opened = []
    page.on("websocket", lambda ws: opened.append(ws.url))
    page.wait_for_timeout(7000)  # quiet for longer than one blocking read: the condition under test
    gateway_publish(redis_url, [Sample(plant["thp"].key, time.time(), 101.5)])
    expect(page.locator('.bar-row .pv[data-tag="W01.THP"]')).to_have_text("101.5")
    assert opened == []
