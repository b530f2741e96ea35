"""The toolstring builder in a real headless Chromium: add, reorder and remove components, totals and findings
update without a page reload, and Save stores the string through the reference-contract API."""

import shutil

import pytest

from apps.intervention.models import Toolstring
from tests.intervention.helpers import catalogue
from tests.intervention.test_intervention_api import toolstring

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")]


@pytest.fixture
def page(live_server, personas, monkeypatch):
    from django.conf import settings
    from django.test import Client
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    client = Client()
    client.force_login(personas["operator"])
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(bypass_csp=True)  # lets the test evaluate its wait predicates
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        pg = context.new_page()
        pg.set_default_timeout(15000)
        yield pg
        browser.close()
        from django.db import connections

        connections.close_all()  # the ORM calls made while Playwright's loop ran opened their own connection


def test_builder_adds_reorders_removes_and_saves(world, live_server, page):
    ts = toolstring(world, keys=["rs", "swivel", "stem", "jar", "kj", "gs"])
    cat = catalogue()
    page.goto(f"{live_server.url}/intervention/toolstrings/{ts.pk}/builder/")
    page.wait_for_function("document.querySelectorAll('#ts-rows tr').length === 6")
    page.wait_for_function("document.getElementById('ts-totals').textContent.includes('6 components')")
    marker = page.evaluate("window.__noReload = 1")  # survives only if the page is never reloaded
    assert marker == 1

    # add a second stem at the bottom: a stem below the jar is fine, the count and weight update
    page.select_option("#ts-catalogue", str(cat["stem"].pk))
    page.click("#ts-add")
    page.wait_for_function("document.getElementById('ts-totals').textContent.includes('7 components')")
    # move the jar (row 3) above the stem (row 2): a jar above all stem is an error
    page.locator("#ts-rows tr").nth(3).get_by_title("Move up").click()
    page.wait_for_function("document.getElementById('ts-findings').textContent.includes('jars_below_stem')")
    # move it back down: the error disappears
    page.locator("#ts-rows tr").nth(2).get_by_title("Move down").click()
    page.wait_for_function("!document.getElementById('ts-findings').textContent.includes('jars_below_stem')")
    # remove the swivel below the non-rotating rope socket: a warning appears
    page.locator("#ts-rows tr").nth(1).get_by_title("Remove").click()
    page.wait_for_function("document.getElementById('ts-findings').textContent.includes('swivel_below')")
    assert page.evaluate("window.__noReload") == 1

    page.click("#ts-save")
    page.wait_for_function("document.getElementById('ts-status').textContent.startsWith('Saved')")
    names = list(Toolstring.objects.get(pk=ts.pk).items.order_by("position").values_list("tool_type", flat=True))
    assert names == ["rope_socket", "stem", "jar", "knuckle_joint", "pulling_tool", "stem"]
