"""Browser tests: Playwright for Python driving Debian's Chromium against daphne serving the test database.

The server is a real daphne process on a free loopback port (HTTP and websockets), with a real Redis channel layer so
the gateway side (run here, in the test process) reaches the browser through the same path as on a box. Screenshots
go to test-artifacts/.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.servers import free_port, wait_for_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason="Debian's chromium is not installed (make test installs it)")
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture
def live_server_url(transactional_db, redis_url, settings):
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("browser tests share the PostgreSQL test database with the server process")
    db_url = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "DEBUG": "1", "TESTING": "0",
           "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    log = open(ARTIFACTS.mkdir(exist_ok=True) or ARTIFACTS / "daphne.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "erp.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, timeout=30, name="daphne")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def wait_until(predicate, timeout=5.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
