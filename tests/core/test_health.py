from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from tests.servers import MosquittoServer


def test_health_needs_no_login_and_reports_components(client, db):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["database"] == "connected"
    assert body["mqtt"] == "disabled"
    assert isinstance(body["uptime_seconds"], int)
    assert body["version"].count(".") == 2
    assert "secret" not in response.content.decode().lower()


def test_health_reports_a_real_broker_as_connected_then_disconnected(client, db):
    with MosquittoServer() as broker:
        with override_settings(MQTT_URL=broker.url):
            assert client.get("/api/health").json()["mqtt"] == "connected"
        url = broker.url
    with override_settings(MQTT_URL=url):
        assert client.get("/api/health").json()["mqtt"] == "disconnected"


def test_ready_is_200_when_migrated(client, db):
    response = client.get("/api/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_ready_is_503_naming_the_unapplied_migration(client, db):
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied("wells", "0002_well")
    try:
        response = client.get("/api/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["failed"] == ["migrations"]
        assert body["checks"]["migrations"].startswith("1 not applied") or "not applied" in body["checks"]["migrations"]
    finally:
        recorder.record_applied("wells", "0002_well")
