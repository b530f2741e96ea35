"""GET /api/v1/sync/status (reference shape), backlog thresholds, notifications, quarantine API and commands."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core.models import Notification
from apps.sync import services
from apps.sync.choices import EventState
from apps.sync.forwarder import backoff_delay
from apps.sync.models import OutboxEvent, SyncState

pytestmark = pytest.mark.django_db


def make_events(n, state=EventState.PENDING, age=timedelta(0), **kw):
    created = timezone.now() - age
    OutboxEvent.objects.bulk_create(
        [OutboxEvent(edge_id="e", aggregate_type="wells.field", aggregate_id=str(i), op="upsert", payload={},
                     state=state, created_at=created, **kw) for i in range(n)]
    )


def test_status_reference_shape(api_for):
    OutboxEvent.objects.all().delete()
    make_events(3)
    make_events(2, EventState.QUARANTINED, last_error="bad", attempts=3)
    now = timezone.now()
    SyncState.objects.update_or_create(key="default", defaults={
        "last_attempt_at": now, "last_success_at": now, "cloud_reachable": True})
    body = api_for("viewer").get("/api/v1/sync/status").json()
    assert body["success"] is True and body["pendingCount"] == 3
    st = body["status"]
    assert {"last_sync_attempt", "last_successful_sync", "cloud_reachable", "pending_sync_count",
            "failed_sync_count", "oldest_pending_age_seconds"} <= set(st)
    assert st["pending_sync_count"] == 3 and st["failed_sync_count"] == 2 and st["cloud_reachable"] is True
    assert st["last_successful_sync"].endswith("Z")
    assert st["alert"]["level"] == "warning"  # quarantined events are a warning


def test_status_needs_a_user(anon_api):
    assert anon_api.get("/api/v1/sync/status").status_code == 401


@pytest.mark.parametrize(
    ("pending", "age", "since_success", "level"),
    [
        (0, 0, None, "ok"),
        (1000, 0, 10, "ok"),
        (1001, 0, 10, "warning"),
        (10001, 0, 10, "critical"),
        (5, 3601, 10, "warning"),
        (5, 86401, 10, "critical"),
        (5, 0, 301, "warning"),
        (5, 0, 3601, "critical"),
    ],
)
def test_backlog_thresholds(pending, age, since_success, level):
    status = {"pending_sync_count": pending, "oldest_pending_age_seconds": age, "failed_sync_count": 0}
    last = timezone.now() - timedelta(seconds=since_success) if since_success is not None else None
    assert services.alerts(status, last)["level"] == level


def test_disk_guard(settings, tmp_path):
    settings.SYNC_DISK_PATH = str(tmp_path)
    settings.SYNC_DISK_WARNING_PERCENT = 0.0001
    status = {"pending_sync_count": 0, "oldest_pending_age_seconds": 0, "failed_sync_count": 0}
    alert = services.alerts(status, None)
    assert alert["level"] in ("warning", "critical") and any("disk" in r for r in alert["reasons"])


def test_alert_notifies_once_per_worsening(personas):
    OutboxEvent.objects.all().delete()
    SyncState.objects.update_or_create(key="default", defaults={"last_success_at": timezone.now()})
    make_events(1001)
    assert services.check_alerts()["level"] == "warning"
    admins = Notification.objects.filter(recipient=personas["admin"])
    assert admins.count() == 1 and admins.get().severity == "warning"
    assert services.check_alerts()["level"] == "warning"
    assert admins.count() == 1  # no repeat while the level holds
    make_events(9000)
    assert services.check_alerts()["level"] == "critical"
    assert admins.filter(severity="critical").count() == 1
    assert Notification.objects.filter(recipient=personas["supervisor"], severity="critical").exists()


def test_backoff_is_exponential_with_jitter_and_capped():
    assert backoff_delay(0) == 0
    for n in range(1, 6):
        d = backoff_delay(n, base=2, cap=300)
        assert 2 ** (n - 1) <= d <= 2**n
    assert all(150 <= backoff_delay(n, base=2, cap=300) <= 300 for n in range(9, 40))
    assert len({backoff_delay(4, base=2, cap=300) for _ in range(20)}) > 1


def test_quarantine_api_list_retry_export(api_for):
    OutboxEvent.objects.all().delete()
    make_events(2, EventState.QUARANTINED, last_error="payload: code bad", attempts=3)
    seqs = list(OutboxEvent.objects.values_list("sequence", flat=True))
    listing = api_for("supervisor").get("/api/v1/sync/quarantine").json()
    assert listing["count"] == 2 and listing["results"][0]["last_error"] == "payload: code bad"
    assert api_for("operator").get("/api/v1/sync/quarantine").status_code == 403
    csv_text = api_for("supervisor").get("/api/v1/sync/quarantine/export", {"as": "csv"}).content.decode()
    assert csv_text.splitlines()[0].startswith("sequence,event_id") and len(csv_text.splitlines()) == 3
    assert api_for("supervisor").post("/api/v1/sync/quarantine/retry", {}, format="json").status_code == 403
    bad = api_for("admin").post("/api/v1/sync/quarantine/retry", {"sequences": "all"}, format="json")
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "sequences"
    ok = api_for("admin").post("/api/v1/sync/quarantine/retry", {"sequences": seqs[:1]}, format="json")
    assert ok.json() == {"retried": 1}
    ev = OutboxEvent.objects.get(sequence=seqs[0])
    assert ev.state == EventState.PENDING and ev.attempts == 0


def test_quarantine_command(db):
    OutboxEvent.objects.all().delete()
    make_events(2, EventState.QUARANTINED, last_error="nope", attempts=3)
    out = StringIO()
    call_command("sync_quarantine", "list", stdout=out)
    assert out.getvalue().count("nope") == 2
    out = StringIO()
    call_command("sync_quarantine", "export", stdout=out)
    assert len(json.loads(out.getvalue())) == 2
    out = StringIO()
    call_command("sync_quarantine", "retry", stdout=out)
    assert "2 event(s)" in out.getvalue()
    assert not OutboxEvent.objects.filter(state=EventState.QUARANTINED).exists()


def test_credential_command(db, settings, tmp_path):
    out = StringIO()
    call_command("sync_credential", "issue", "edge-cmd", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("edge-cmd:") and services.authenticate_edge(token) is not None
    path = tmp_path / "token"
    call_command("sync_credential", "rotate", "edge-cmd", "--grace-hours", "0", "--token-file", str(path),
                 stdout=StringIO())
    new = path.read_text().strip()
    assert services.authenticate_edge(new) is not None and services.authenticate_edge(token) is None
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_prune_keeps_recent_and_undelivered(db):
    OutboxEvent.objects.all().delete()
    make_events(2, EventState.DELIVERED, age=timedelta(days=30))
    make_events(1, EventState.DELIVERED)
    make_events(1, EventState.PENDING, age=timedelta(days=30))
    assert services.prune_delivered(7) == 2
    assert OutboxEvent.objects.count() == 2


def test_sync_page(api_for, personas, client):
    client.force_login(personas["supervisor"])
    assert client.get("/sync/").status_code == 200
    client.force_login(personas["operator"])
    assert client.get("/sync/").status_code == 403


def test_backlog_published_to_metrics(db):
    from apps.ops import metrics

    OutboxEvent.objects.all().delete()
    make_events(7, age=timedelta(minutes=3))
    metrics.run_scrape_hooks()
    assert metrics.SYNC_BACKLOG._value.get() == 7
    assert 170 <= metrics.SYNC_OLDEST_AGE._value.get() <= 400


def test_hub_page_lists_edges(personas, client, settings):
    settings.EDGE_ROLE = "hub"
    services.issue_credential("edge-page")
    client.force_login(personas["supervisor"])
    page = client.get("/sync/")
    assert page.status_code == 200 and b"edge-page" in page.content
