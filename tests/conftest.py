"""Test session: a real PostgreSQL (or the URL in DATABASE_URL), real Redis and Mosquitto on demand, and personas.

- default: PostgreSQL started from the system binaries on a free loopback port, torn down at the end;
- DATABASE_URL=postgres://... : that server is used instead;
- WELLSITE_TEST_DB=sqlite : the embedded default (SQLite file in WAL mode), for the SQLite pass of the core tests.
"""

from __future__ import annotations

import os
import tempfile

import dj_database_url
import pytest

from tests.servers import MosquittoServer, PostgresServer, RedisServer

_started: list = []


def _use_database(config: dict) -> None:
    from django.conf import settings
    from django.db import connections

    current = settings.DATABASES["default"]
    merged = {**current, **config}
    settings.DATABASES["default"] = merged
    connections.close_all()
    # Forget the connection handler's cached configuration and the open connection object.
    connections.__dict__.pop("settings", None)
    connections._settings = None
    try:
        del connections["default"]
    except AttributeError:
        pass


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    mode = os.environ.get("WELLSITE_TEST_DB", "postgres")
    if mode == "sqlite":
        path = os.path.join(tempfile.mkdtemp(prefix="wellsite-sqlite-"), "test.sqlite3")
        _use_database({"ENGINE": "django.db.backends.sqlite3", "NAME": path, "TEST": {"NAME": path}})
        return
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres", "timescale")):
        config = dj_database_url.parse(url.replace("timescale://", "postgres://", 1))
    else:
        server = PostgresServer().start()
        _started.append(server)
        config = dj_database_url.parse(server.url())
    config.setdefault("OPTIONS", {})
    config["TEST"] = {"NAME": f"test_{config['NAME'] or 'wellsite'}"}
    _use_database(config)


def pytest_unconfigure(config):
    while _started:
        _started.pop().stop()


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis: REDIS_URL if set, else a redis-server started for the session."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    with RedisServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def mqtt_url():
    """A real Mosquitto broker: MQTT_URL if set, else one started for the session."""
    if os.environ.get("MQTT_URL"):
        yield os.environ["MQTT_URL"]
        return
    with MosquittoServer() as server:
        yield server.url


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


from apps.core.testing import *  # noqa: E402,F401,F403  (personas, world, clients)
