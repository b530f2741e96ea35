"""/metrics (access rules, the named series) and the JSON log lines (request id, no secrets)."""

from __future__ import annotations

import base64
import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from apps.ops import metrics
from apps.ops.logs import JsonFormatter, RequestIdFilter, redact

SERIES = [
    "wellsite_http_requests_total",
    "wellsite_http_request_duration_seconds_bucket",
    "wellsite_historian_write_duration_seconds_bucket",
    "wellsite_historian_batch_size_bucket",
    "wellsite_samples_ingested_total",
    "wellsite_dead_letters_total",
    "wellsite_gateway_queue_depth",
    "wellsite_gateway_samples_dropped_total",
    "wellsite_device_connected",
    "wellsite_alarms_active",
    "wellsite_sync_backlog",
    "wellsite_sync_oldest_pending_age_seconds",
    "wellsite_backup_age_seconds",
]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def scada_user(personas):
    user = personas["scada"]
    user.set_password("scada-scrape-pass-1")
    user.save()
    return user


def test_metrics_needs_admin_or_scada(personas, scada_user, api_for):
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=basic(scada_user.username, "wrong")).status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION=basic(scada_user.username, "scada-scrape-pass-1"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    for role in ("admin", "scada"):
        assert api_for(role).get("/metrics").status_code == 200, role  # JWT bearer
    for role in ("supervisor", "operator", "viewer"):
        response = api_for(role).get("/metrics")
        assert response.status_code == 403, role
        assert response.json()["error"] == "permission_denied"


def test_metrics_open_to_configured_network(db, settings):
    settings.OPS_METRICS_NETWORKS = ["10.42.0.0/16"]
    assert Client(REMOTE_ADDR="10.42.3.7").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.20").get("/metrics").status_code == 401


def test_metrics_exposes_the_named_series(personas, scada_user, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    metrics.observe_historian_write(0.012, 500)
    metrics.count_samples("modbus", 125)
    metrics.count_dead_letter("mqtt")
    metrics.set_queue_depth(42)
    metrics.set_device_state("RTU-01", connected=True)
    metrics.set_active_alarms({"urgent": 1, "high": 3})
    metrics.set_sync_backlog(7, 180.0)
    client = Client()
    auth = {"HTTP_AUTHORIZATION": basic(scada_user.username, "scada-scrape-pass-1")}
    client.get("/api/health", **auth)
    text = client.get("/metrics", **auth).content.decode()
    for name in SERIES:
        assert name in text, name
    assert 'wellsite_http_requests_total{method="GET",status="200",view="health"}' in text
    assert 'wellsite_samples_ingested_total{protocol="modbus"}' in text
    assert 'wellsite_alarms_active{priority="high"} 3.0' in text
    assert "wellsite_gateway_queue_depth 42.0" in text
    assert "wellsite_backup_age_seconds -1.0" in text  # no backup yet in this VAR_DIR


def test_a_fresh_process_lists_the_gateway_drop_counter_at_zero(db, tmp_path):
    """wellsite_gateway_samples_dropped_total{reason="repeated_mark"} is on /metrics from start-up, at 0, before any
    drop: declared with the other series (it used to be created at the first drop, so an alert on it saw no series
    until then). A fresh process, as this test process may have counted drops in other tests."""
    from django.db import connection

    conn = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST", "PROMETHEUS"))}
    env.update({"DEBUG": "1", "TESTING": "0", "VAR_DIR": str(tmp_path), "OPS_METRICS_NETWORKS": "127.0.0.1/32",
                "DATABASE_URL": f"postgres://{conn['USER']}@{conn['HOST']}:{conn['PORT']}/{conn['NAME']}"})
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'erp.settings'; django.setup()\n"
            "from django.test.utils import setup_test_environment; setup_test_environment()\n"
            "from django.test import Client\n"
            "response = Client(REMOTE_ADDR='127.0.0.1').get('/metrics'); print(response.status_code)\n"
            "print(response.content.decode())")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    status, _, text = result.stdout.partition("\n")
    assert status == "200", result.stdout
    assert 'wellsite_gateway_samples_dropped_total{reason="repeated_mark"} 0.0' in text.splitlines()


def test_the_gateway_counts_drops_in_the_declared_series(personas, scada_user):
    from prometheus_client import REGISTRY

    from scada.runtime.gateway import count_dropped

    before = REGISTRY.get_sample_value("wellsite_gateway_samples_dropped_total", {"reason": "repeated_mark"})
    count_dropped("repeated_mark", 3)
    text = Client().get("/metrics", HTTP_AUTHORIZATION=basic(scada_user.username, "scada-scrape-pass-1")).content
    assert f'wellsite_gateway_samples_dropped_total{{reason="repeated_mark"}} {before + 3}' in text.decode()


def test_backup_age_follows_the_last_backup(personas, scada_user, tmp_path, settings):
    from datetime import UTC, datetime, timedelta

    from apps.ops.backup import record_last_backup

    settings.VAR_DIR = tmp_path
    record_last_backup(tmp_path / "x.tar", datetime.now(UTC) - timedelta(hours=5), 10)
    text = Client().get("/metrics", HTTP_AUTHORIZATION=basic(scada_user.username, "scada-scrape-pass-1")).content
    line = next(ln for ln in text.decode().splitlines() if ln.startswith("wellsite_backup_age_seconds "))
    assert 5 * 3600 - 60 < float(line.split()[1]) < 5 * 3600 + 600


# --- logs -------------------------------------------------------------------------------------------------------
@pytest.fixture
def log_lines():
    """Route the project's logging (the LOGGING setting's own filter and formatter) into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security", "apps", "scada")]
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        del loggers


def test_logging_setting_uses_the_json_formatter_and_request_id():
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["request_id"]
    assert settings.LOGGING["formatters"]["json"]["()"] == "apps.ops.logs.JsonFormatter"


def test_log_line_is_json_with_request_id(log_lines):
    from apps.core.context import Channel, acting

    with acting(channel=Channel.COMMAND) as ctx:
        logging.getLogger("apps.ops.test").info("backup of %s started", "edge-01")
    [line] = [entry for entry in log_lines() if entry["logger"] == "apps.ops.test"]
    assert line["message"] == "backup of edge-01 started"
    assert line["request_id"] == ctx.request_id and line["channel"] == "command" and line["level"] == "INFO"


SECRETS = [
    "Sup3r-Secret-Pa55",
    "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    "dGVzdDp0ZXN0MTIz",
]


def test_no_password_or_token_in_log_lines(log_lines, personas, db):
    log = logging.getLogger("apps.ops.test")
    log.info("login attempt password=%s", SECRETS[0])
    log.info("payload %s", json.dumps({"username": "x", "password": SECRETS[0], "refresh": SECRETS[1]}))
    log.warning("header Authorization: Bearer %s", SECRETS[1])
    log.warning("header Authorization: Basic %s", SECRETS[2])
    log.error("connecting to postgres://wellsite:%s@db:5432/wellsite failed", SECRETS[0])
    log.info("token seen: %s", SECRETS[1])
    log.info("raw device payload %s", "A" * 50000)
    log.info("extra", extra={"api_key": f"key={SECRETS[0]}"})
    try:
        raise ValueError(f"bad credentials password={SECRETS[0]}")
    except ValueError:
        log.exception("login failed")
    # Real requests: a failed and a successful login (the request bodies carry the password).
    client = Client()
    client.post("/api/auth/login", {"username": "viewer-user", "password": SECRETS[0]},
                content_type="application/json")
    client.get("/api/v1/wells/fields/", HTTP_AUTHORIZATION=f"Bearer {SECRETS[1]}")
    client.get(f"/nowhere?password={SECRETS[0]}&token={SECRETS[1]}")
    lines = log_lines()
    assert len(lines) >= 9
    text = "\n".join(json.dumps(line) for line in lines)
    for secret in SECRETS:
        assert secret not in text
    assert "[REDACTED]" in text
    assert all(len(line["message"]) < 2100 for line in lines)  # the raw payload was cut


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("password=hunter2hunter2", "password="),
        ('{"password": "hunter2hunter2"}', '"password": '),
        ("new_password: hunter2hunter2", "new_password: "),
        ("Authorization: Bearer abcdefgh12345678", "Bearer "),
        ("redis://:hunter2hunter2@redis:6379/0", "redis://:"),
        ("OPS_BACKUP_PASSPHRASE=hunter2hunter2", "OPS_BACKUP_PASSPHRASE="),
    ],
)
def test_redact(raw, kept):
    out = redact(raw)
    assert "hunter2hunter2" not in out and "abcdefgh12345678" not in out
    assert kept in out and "[REDACTED]" in out


def test_redact_keeps_ordinary_messages():
    message = "well W-12 pressure 1250.5 psi, tag PT-101 quality good"
    assert redact(message) == message


def test_metrics_aggregate_other_processes(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, the web's /metrics registry includes the series set by another process (the
    gateway): here a child process sets the queue depth and another one renders the registry the view uses."""
    import subprocess
    import sys

    from tests.ops.helpers import ROOT, manage

    shared = tmp_path / "metrics"  # does not exist yet: the metrics module creates it
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "VAR_DIR": str(tmp_path / "var")}
    subprocess.run([sys.executable, "-c", "from apps.ops import metrics; metrics.set_queue_depth(17); "
                    "metrics.count_samples('opcua', 5)"], cwd=ROOT, env={**env, "PATH": "/usr/bin:/bin"}, check=True)
    out = manage(env, "shell", "-c", "from prometheus_client import generate_latest; from apps.ops.views import "
                 "registry; print(generate_latest(registry()).decode())").stdout
    assert "wellsite_gateway_queue_depth 17.0" in out
    assert 'wellsite_samples_ingested_total{protocol="opcua"} 5.0' in out
