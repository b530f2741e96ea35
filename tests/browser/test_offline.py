"""Offline data entry in Chromium (the reference acceptance test): sign in, cut the network, create three toolstring
configurations, reload the page while still offline (the service worker serves it), reconnect and see the three
arrive at the edge exactly once; with the hub stopped they wait in the outbox, and once the hub starts the forwarder
(``manage.py run_sync``) delivers them. The daily production and DDR time-log forms work the same way, and an entry
the server rejects stays visible with its field message.

Offline is ``context.set_offline(True)``. Chromium's offline emulation does not reach the service worker's own
fetches (microsoft/playwright#2311), so the test also aborts every request the worker makes while offline
(Playwright's service-worker network events, ``PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS=1``): the page is then
served from the worker's cache, as on a tablet without Wi-Fi. Waits use locators (no wait_for_function: strict CSP).
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, CHROMIUM, daphne
from tests.browser.test_hmi import in_thread
from tests.sync.conftest import sync_dbs  # noqa: F401  (fixture: the edge and hub databases)
from tests.sync.procs import Hub, forwarder_env, start_forwarder

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]
PASSWORD = "Wellhead-pass-2026"
SYNC_INTERVAL = 2.0  # the forwarder's interval in this test (seconds)


@pytest.fixture
def edge_id():
    return f"edge-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def edge_url(transactional_db, redis_url, settings, edge_id, sync_dbs):  # noqa: F811
    """daphne serving the test database as an edge named ``edge_id`` (its outbox rows carry that id)."""
    if connection.vendor != "postgresql":
        pytest.skip("browser tests share the PostgreSQL test database with the server process")
    settings.EDGE_ID = edge_id  # rows written from the test process too
    env = {**os.environ, "DATABASE_URL": sync_dbs[0], "REDIS_URL": redis_url, "DEBUG": "1", "TESTING": "0",
           "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
           "EDGE_ROLE": "edge", "EDGE_ID": edge_id}
    for key in ("DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST", "HUB_URL", "SYNC_TOKEN"):
        env.pop(key, None)
    with daphne(env, "daphne-offline.log") as base:  # killed if it does not stop on SIGTERM
        yield base


class Browser:
    """A Chromium context whose network can be cut, service worker included."""

    def __init__(self, context, page):
        self.context = context
        self.page = page
        self.cut = []  # URLs the service worker tried to fetch while offline (and did not get)

    def _abort_worker(self, route):
        if route.request.service_worker is not None:
            self.cut.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def offline(self, signed_in=True):
        self.context.set_offline(True)
        self.context.route("**/*", self._abort_worker)
        if signed_in:
            expect(self.page.locator("#offline-state .net")).to_have_text("offline")

    def online(self):
        self.context.unroute("**/*", self._abort_worker)
        self.context.set_offline(False)
        expect(self.page.locator("#offline-state .net")).to_have_text("online")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"  # read by the driver Playwright starts
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            context = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="allow")
            page = context.new_page()
            page.set_default_timeout(15000)
            yield Browser(context, page)
            context.close()
            chromium.close()
    finally:
        os.environ.pop("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", None)


def _site():
    from apps.accounts.services import create_or_update_user
    from apps.drilling.models import DrillingReport, IadcActivity
    from apps.wells.models import Field, Site, Well, Wellbore
    from tests.intervention.helpers import catalogue

    tag = uuid.uuid4().hex[:6].upper()  # the hub's database lives for the whole session: unique codes
    field = Field.objects.create(code=f"N{tag}", name=f"North {tag}")
    site = Site.objects.create(field=field, code=f"PAD-{tag}", name="Pad A")
    well = Well.objects.create(site=site, name="W01", uwi=f"UWI-{tag}", status="producing")
    wellbore = Wellbore.objects.create(well=well, name="W01 OH")
    report = DrillingReport.objects.create(wellbore=wellbore, report_date="2026-05-01")
    activity, _ = IadcActivity.objects.get_or_create(code="2", subcode="", defaults={"description": "Drilling"})
    user, _ = create_or_update_user("finlay", "operator", fields=[field.code])
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())  # the server's hasher
    user.save()
    return {"well": well, "report": report, "activity": activity, "user": user, "catalogue": catalogue()}


@pytest.fixture
def site(transactional_db):
    return _site()


def login(page, base, next_url):
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", "finlay")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")
    # the worker controls the page and has stored the offline forms and their reference data
    expect(page.locator("html[data-sw-controlled='1'][data-offline-ready='1']")).to_have_count(1)


def build_toolstring(page, name, codes, catalogue):
    page.fill("#ts-name", name)
    page.select_option("#ts-well", label="W01")
    page.fill("#ts-operation", "Fishing")
    for code in codes:
        page.select_option("#ts-catalogue", str(catalogue[code].pk))
        page.click("#ts-add")
    expect(page.locator("#ts-rows tr")).to_have_count(len(codes))
    page.click("#ts-save")
    expect(page.locator("#ts-status")).to_contain_text("Saved on this device")


def copy_to_hub(hub, objs):
    """Master data authored at the hub (the tool catalogue flows down to edges): put the edge's rows in the hub's
    database so the toolstrings' components resolve there. User references are left out (ids differ per box)."""
    from django.conf import settings as dj

    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields]
    cols = ", ".join(f'"{f.column}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))

    def value(f, obj):
        remote = getattr(f, "remote_field", None)
        if remote is not None and remote.model._meta.label == dj.AUTH_USER_MODEL:
            return None
        return f.get_db_prep_save(f.value_from_object(obj), connection)

    for obj in objs:
        hub.query(f'INSERT INTO "{model._meta.db_table}" ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING RETURNING 1',
                  [value(f, obj) for f in fields])


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_toolstrings_made_offline_arrive_once_at_the_edge_then_at_the_hub(
        site, edge_url, browser, edge_id, sync_dbs, tmp_path):  # noqa: F811
    from apps.intervention.models import Toolstring
    from apps.sync import services
    from apps.sync.choices import EventState
    from apps.sync.models import OutboxEvent

    page = browser.page
    hub = Hub(sync_dbs[1], log_dir=tmp_path)  # not started: the hub is down
    copy_to_hub(hub, list(site["catalogue"].values()))
    login(page, edge_url, "/intervention/toolstrings/builder/")
    expect(page.locator("#ts-catalogue option")).to_have_count(len(site["catalogue"]))

    browser.offline()
    names = ["W01 Fishing Run 1", "W01 Fishing Run 2", "W01 Drift Run"]
    build_toolstring(page, names[0], ["rs", "swivel", "stem", "jar", "kj", "gs"], site["catalogue"])
    build_toolstring(page, names[1], ["rs", "stem", "jar", "gs"], site["catalogue"])
    build_toolstring(page, names[2], ["rs", "stem", "wide"], site["catalogue"])
    panel = page.locator(".outbox-panel[data-outbox-kind=toolstring] .outbox-entry")
    expect(panel).to_have_count(3)
    expect(page.locator("#offline-state .outbox-count")).to_have_text("3 waiting to send")
    client_ids = {panel.nth(i).get_attribute("data-id") for i in range(3)}
    assert in_thread(lambda: Toolstring.objects.count()) == 0  # nothing reached the server
    page.screenshot(path=str(ARTIFACTS / "offline-toolstrings-waiting.png"), full_page=True)

    page.reload()  # still offline: the service worker serves the page, its scripts and the catalogue
    expect(page.locator("h1")).to_have_text("Toolstring builder")
    expect(page.locator("#offline-state .net")).to_have_text("offline")
    expect(page.locator("#ts-catalogue option")).to_have_count(len(site["catalogue"]))
    expect(panel).to_have_count(3)
    # the worker did try the network for the page (network first) and was refused: the page came from its cache
    assert f"{edge_url}/intervention/toolstrings/builder/" in browser.cut
    page.screenshot(path=str(ARTIFACTS / "offline-toolstrings-reloaded.png"), full_page=True)

    browser.online()
    expect(panel).to_have_count(0)  # sent
    expect(page.locator("#offline-state .outbox-count")).to_be_hidden()
    stored = in_thread(lambda: {str(pk): name for pk, name in Toolstring.objects.values_list("pk", "name")})
    assert set(stored) == client_ids and sorted(stored.values()) == sorted(names)  # exactly once, client UUIDs

    # the hub is down: they wait in the edge's outbox
    def waiting():
        return set(OutboxEvent.objects.filter(aggregate_type="intervention.toolstring", state=EventState.PENDING)
                   .values_list("aggregate_id", flat=True))

    assert in_thread(waiting) == client_ids
    token = hub.issue_token(edge_id)
    env = forwarder_env(sync_dbs[0], hub.url, token, edge_id, SYNC_INTERVAL_SECONDS=SYNC_INTERVAL,
                        SYNC_BACKOFF_BASE_SECONDS=0.5, SYNC_BACKOFF_MAX_SECONDS=SYNC_INTERVAL)
    forwarder = start_forwarder(env, tmp_path / "forwarder.log")
    try:
        wait_for(lambda: in_thread(lambda: services.status()["status"]["last_sync_attempt"]) is not None, 60,
                 "the forwarder to try the hub")
        assert in_thread(waiting) == client_ids  # tried, hub unreachable, still waiting
        hub.start()
        started = time.monotonic()
        at_hub = "SELECT id::text FROM intervention_toolstring WHERE id::text = ANY(%s)"
        wait_for(lambda: len(hub.query(at_hub, (list(client_ids),))) == 3, 30, "the toolstrings at the hub")
        print(f"toolstrings at the hub {time.monotonic() - started:.2f} s after it started "
              f"(forwarder interval {SYNC_INTERVAL} s)")
        received = hub.query("SELECT event_id::text FROM sync_receivedevent WHERE edge_id = %s", (edge_id,))
        assert len(received) == len({r[0] for r in received})  # no event applied twice
        wait_for(lambda: in_thread(lambda: Toolstring.objects.filter(synced=True).count()) == 3, 30,
                 "the edge to mark them synced")
        assert in_thread(waiting) == set()
    finally:
        forwarder.terminate()
        forwarder.wait(timeout=10)
        hub.stop()


def test_daily_production_and_time_log_made_offline_arrive_once_and_a_rejected_entry_is_shown(
        site, edge_url, browser):
    from apps.drilling.models import TimeLogRow
    from apps.production.models import DailyWellProduction

    page = browser.page
    login(page, edge_url, "/production/daily/new/")
    browser.offline()

    def daily(prod_date, hours_on, oil):
        page.select_option("#id_well", str(site["well"].pk))
        page.fill("#id_prod_date", prod_date)
        page.fill("#id_hours_on", hours_on)
        page.fill("#id_oil_m3", oil)
        page.fill("#id_gas_sm3", "800")
        page.fill("#id_water_m3", "3.1")
        page.click("form.edit-form button[type=submit]")
        expect(page.locator("form.edit-form .offline-status")).to_contain_text("Saved on this device")

    daily("2026-05-01", "24", "12.5")
    daily("2026-05-02", "20", "10.0")  # below 24 h without a downtime reason: the server will refuse it
    entries = page.locator(".outbox-panel[data-outbox-kind=daily-production] .outbox-entry")
    expect(entries).to_have_count(2)
    daily_ids = [entries.nth(i).get_attribute("data-id") for i in range(2)]

    page.goto(f"{edge_url}/drilling/time-log/new/")  # never opened before: the worker stored it at sign-in
    assert f"{edge_url}/drilling/time-log/new/" in browser.cut
    page.select_option("#id_report", str(site["report"].pk))
    page.fill("#id_start_time", "06:00")
    page.fill("#id_end_time", "12:00")
    page.select_option("#id_activity", str(site["activity"].pk))
    page.fill("#id_description", "Drill 8-1/2in hole from 1520 m to 1705 m")
    page.click("form.edit-form button[type=submit]")
    expect(page.locator("form.edit-form .offline-status")).to_contain_text("Saved on this device")
    rows = page.locator(".outbox-panel[data-outbox-kind=ddr-time-log] .outbox-entry")
    expect(rows).to_have_count(1)
    row_id = rows.first.get_attribute("data-id")
    expect(page.locator("#offline-state .outbox-count")).to_have_text("3 waiting to send")
    page.screenshot(path=str(ARTIFACTS / "offline-time-log-waiting.png"), full_page=True)

    browser.online()
    expect(page.locator("#offline-state .outbox-count")).to_have_text("0 waiting to send \u00b7 1 rejected")
    assert in_thread(lambda: [str(pk) for pk in TimeLogRow.objects.values_list("pk", flat=True)]) == [row_id]
    assert in_thread(lambda: [str(pk) for pk in DailyWellProduction.objects.values_list("pk", flat=True)]) == [
        daily_ids[0]]

    page.goto(f"{edge_url}/production/daily/new/")
    rejected = page.locator(".outbox-panel[data-outbox-kind=daily-production] .outbox-entry.state-rejected")
    expect(rejected).to_have_count(1)
    expect(rejected.locator(".details")).to_contain_text("downtime_reason: Give the reason for the downtime")
    page.screenshot(path=str(ARTIFACTS / "offline-daily-rejected.png"), full_page=True)
    rejected.get_by_role("button", name="Edit").click()  # back into the form with the field message
    expect(page.locator("#id_hours_on")).to_have_value("20")
    expect(page.locator("form.edit-form .offline-errors")).to_contain_text("Give the reason for the downtime")
    page.select_option("#id_downtime_reason", index=1)
    page.click("form.edit-form button[type=submit]")
    expect(page.locator("form.edit-form .offline-status")).to_contain_text("Saved.")
    expect(rejected).to_have_count(0)
    expect(page.locator("#offline-state .outbox-count")).to_be_hidden()
    stored = in_thread(lambda: sorted(str(pk) for pk in DailyWellProduction.objects.values_list("pk", flat=True)))
    assert stored == sorted(daily_ids)  # the corrected entry kept its client UUID: one record per entry


def test_sign_out_empties_the_cached_pages_but_keeps_unsent_entries(site, edge_url, browser):
    page = browser.page
    login(page, edge_url, "/production/daily/new/")
    browser.offline()
    page.select_option("#id_well", str(site["well"].pk))
    page.fill("#id_prod_date", "2026-05-03")
    page.fill("#id_hours_on", "24")
    page.click("form.edit-form button[type=submit]")
    expect(page.locator("form.edit-form .offline-status")).to_contain_text("Saved on this device")
    browser.online()
    expect(page.locator("#offline-state .outbox-count")).to_be_hidden()  # sent

    def cache_names():
        return page.evaluate("caches.keys()")

    assert any(n.startswith("wellsite-pages-") for n in cache_names())
    page.click("#logout-form button[type=submit]")
    page.wait_for_url("**/accounts/login/**")
    names = cache_names()
    assert not any(n.startswith(("wellsite-pages-", "wellsite-data-")) for n in names), names
    assert any(n.startswith("wellsite-static-") for n in names)  # the app shell is not personal
    browser.offline(signed_in=False)
    page.goto(f"{edge_url}/production/daily/new/", wait_until="commit")
    expect(page.locator("h1")).to_have_text("No network")  # not the previous user's page


def test_expired_session_keeps_the_entries_until_the_user_signs_in_again(site, edge_url, browser):
    from django.contrib.sessions.models import Session

    from apps.production.models import DailyWellProduction

    page = browser.page
    login(page, edge_url, "/production/daily/new/")
    browser.offline()
    page.select_option("#id_well", str(site["well"].pk))
    page.fill("#id_prod_date", "2026-05-04")
    page.fill("#id_hours_on", "24")
    page.click("form.edit-form button[type=submit]")
    expect(page.locator("form.edit-form .offline-status")).to_contain_text("Saved on this device")
    entry = page.locator(".outbox-panel[data-outbox-kind=daily-production] .outbox-entry")
    client_id = entry.first.get_attribute("data-id")
    in_thread(lambda: Session.objects.all().delete())  # the session ended while the tablet was offline

    browser.online()
    expect(entry.first).to_have_class("outbox-entry state-auth")
    expect(page.locator("#offline-state .signin")).to_be_visible()
    assert in_thread(lambda: DailyWellProduction.objects.count()) == 0
    page.screenshot(path=str(ARTIFACTS / "offline-session-expired.png"), full_page=True)

    page.click("#offline-state .signin")
    page.fill("#id_username", "finlay")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{edge_url}/production/daily/new/")
    expect(page.locator("#offline-state .outbox-count")).to_be_hidden()  # sent with the new session
    assert in_thread(lambda: [str(pk) for pk in DailyWellProduction.objects.values_list("pk", flat=True)]) == [
        client_id]
