"""Browser tests: Playwright for Python driving Debian's Chromium against daphne serving the test database.

The server is a real daphne process on a free loopback port (HTTP and websockets), with a real Redis channel layer so
the gateway side (run here, in the test process) reaches the browser through the same path as on a box. Screenshots
go to test-artifacts/.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.servers import wait_for_port

# expect()'s default wait is 5 s: a page that waits on the server (a push, a sync, the service worker storing the
# offline pages) can take longer when CI's two cores are busy. Tests that check a latency pass their own timeout.
expect.set_options(timeout=15_000)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason="Debian's chromium is not installed (make test installs it)")
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(skip)


def server_env(redis_url: str, secret_key: str, **extra) -> dict:
    """Environment of a server process (daphne, run_scada) on the test database with the real Redis channel layer."""
    s = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}",
           "REDIS_URL": redis_url, "DEBUG": "1", "TESTING": "0", "SECRET_KEY": secret_key,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


@contextlib.contextmanager
def process(args: list[str], env: dict, log_name: str, port: int | None = None, name: str = "server",
            pass_fds: tuple = ()):
    """A server subprocess logging to test-artifacts/<log_name>, stopped with SIGTERM (killed if it hangs)."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "ab")
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=pass_fds)
    try:
        if port is not None:
            wait_for_port(port, proc, timeout=30, name=name)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def daphne(env: dict, log_name: str = "daphne.log"):
    """daphne serving erp.asgi on a loopback socket this process bound and listens on, handed over with --fd.

    A port picked free and bound later by the server can be taken in between (another test run on the machine, an
    outgoing connection); then daphne cannot bind, or a check of the port reaches someone else's server. Ready once
    the application answers over HTTP, not when the port accepts (the socket accepts from the start)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        args = [sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "erp.asgi:application"]
        with process(args, env, log_name, name="daphne", pass_fds=(sock.fileno(),)) as proc:
            sock.close()  # daphne has its own copy
            wait_for_http(f"{base}/api/health", proc, name="daphne")
            yield base
    finally:
        sock.close()


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 60.0, name: str = "server") -> None:
    """Until ``url`` gets an HTTP answer (any status) from the server process ``proc``."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} before answering {url} (see its log)")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer {url} within {timeout:.0f} s") from None
            time.sleep(0.1)


def launch_chromium(playwright):
    """Debian's Chromium, headless, without the background traffic that slows a test down."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"])


@pytest.fixture
def live_server_url(transactional_db, redis_url, settings):
    if connection.vendor != "postgresql":
        pytest.skip("browser tests share the PostgreSQL test database with the server process")
    with daphne(server_env(redis_url, settings.SECRET_KEY)) as base:
        yield base


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
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
