"""Fixtures of the sync tests: a hub database next to the test database (same PostgreSQL cluster) and a hub process."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.sync.procs import Hub


def _url(cfg: dict, name: str) -> str:
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else "")
    return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{name}"


@pytest.fixture(scope="session")
def sync_dbs(django_db_setup, django_db_blocker):
    """(edge database URL, hub database URL). The hub database is a copy of the freshly migrated test database."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("the real-process sync tests need PostgreSQL")
    cfg = connection.settings_dict
    edge_name = cfg["NAME"]
    hub_name = f"{edge_name}_hub"
    with django_db_blocker.unblock():
        connections.close_all()
        admin = _url(cfg, "postgres").replace("postgres://", "postgresql://", 1)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{hub_name}"')
            for attempt in range(20):
                try:
                    conn.execute(f'CREATE DATABASE "{hub_name}" TEMPLATE "{edge_name}"')
                    break
                except psycopg.errors.ObjectInUse:
                    # A template must have no other session. A connection an earlier test left open in another
                    # thread of this process, or a server process of an earlier test still shutting down, is ended
                    # (connections.close_all() above only closes this thread's).
                    if attempt == 19:
                        raise
                    conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = %s AND pid <> pg_backend_pid()", [edge_name])
                    time.sleep(0.25)
    yield _url(cfg, edge_name), _url(cfg, hub_name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{hub_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def hub(sync_dbs):
    logs = Path(tempfile.mkdtemp(prefix="wellsite-sync-"))
    server = Hub(sync_dbs[1], log_dir=logs).start()
    yield server
    server.stop()
