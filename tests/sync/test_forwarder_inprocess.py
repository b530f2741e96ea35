"""Forwarder paths exercised against the hub views in this process (the real-process tests cover the wire):
telemetry by watermark, the pull cursor, per-event settlement and the delivered flag."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client, override_settings

from apps.sync import registry, services, telemetry
from apps.sync.choices import EventState
from apps.sync.client import HubClient
from apps.sync.forwarder import Forwarder
from apps.sync.models import OutboxEvent, SyncState
from apps.wells.models import Field

pytestmark = pytest.mark.django_db


class InProcessHub(HubClient):
    """The real client logic (JSON, gzip, auth header, error handling) talking to the views through Django's test
    client, with this box acting as the hub for the duration of each request."""

    def __init__(self, token):
        self.token, self.base, self.tls_version = token, "", None
        self.client = Client()

    def request(self, method, path, body=None, headers=None, auth=True, on_sent=None):
        if on_sent is not None:
            on_sent()
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
        meta.pop("HTTP_CONTENT_TYPE", None)
        if auth:
            meta["HTTP_AUTHORIZATION"] = f"Sync {self.token}"
        with override_settings(EDGE_ROLE="hub"):
            if method == "GET":
                r = self.client.get(path, **meta)
            else:
                r = self.client.generic(method, path, body, content_type="application/json", **meta)
        return r.status_code, r.content


@pytest.fixture
def hub_client(db, settings):
    settings.SYNC_PIPELINE = False  # the pipeline's second connection would not see this test's transaction
    settings.EDGE_ROLE = "hub"
    token = services.issue_credential("edge-ip")[1]
    settings.EDGE_ROLE = "edge"
    settings.EDGE_ID = "edge-ip"
    return InProcessHub(token)


def test_telemetry_forwarded_by_watermark_at_least_once(hub_client):
    samples = [{"t": i, "v": i * 1.5} for i in range(12)]
    stored: dict = {}

    def read(after, limit):
        start = 0 if after is None else after + 1
        rows = samples[start : start + limit]
        return rows, (rows[-1]["t"] if rows else after)

    def write(edge_id, rows):
        for r in rows:
            stored[(edge_id, r["t"])] = r["v"]  # upsert on the natural key: a re-sent chunk changes nothing
        return len(rows)

    telemetry.register_stream("test.samples", read=read, write=write, chunk=5)
    try:
        services.state()
        assert telemetry.forward_all(hub_client) == 12
        assert SyncState.objects.get(key="default").watermarks["test.samples"] == 11
        assert len(stored) == 12 and stored[("edge-ip", 11)] == 16.5
        samples.extend({"t": i, "v": 0.0} for i in range(12, 15))
        assert telemetry.forward_all(hub_client) == 3  # only what is after the watermark
        assert len(stored) == 15
    finally:
        telemetry.unregister_stream("test.samples")


def test_unknown_telemetry_stream_is_a_400(hub_client):
    status, body = hub_client.request("POST", "/api/v1/sync/telemetry", b'{"stream": "nope", "rows": []}')
    assert status == 400 and b'"stream"' in body


def test_round_settles_each_event_and_pulls_the_feed(hub_client, settings):
    settings.SYNC_PULL_SETTLE_SECONDS = 0
    settings.SYNC_MAX_REJECTIONS = 1
    settings.EDGE_ROLE = "hub"
    hub_field = Field.objects.create(code="FHUB", name="authored at the hub")  # feed row (published)
    feed_seq = OutboxEvent.objects.get(aggregate_id=str(hub_field.pk)).sequence
    settings.EDGE_ROLE = "edge"
    Field.objects.create(code="FEDGE", name="authored here")
    bad = OutboxEvent.objects.create(edge_id="edge-ip", aggregate_type="wells.field", aggregate_id=str(uuid.uuid4()),
                                     op="upsert", payload={"code": "lower case!"})
    result = Forwarder(client=hub_client, batch_size=2).run_once()
    assert result.ok and result.batches >= 2 and result.quarantined == 1
    bad.refresh_from_db()
    assert bad.state == EventState.QUARANTINED and "code" in bad.last_error
    assert not OutboxEvent.objects.filter(state=EventState.PENDING).exists()
    state = SyncState.objects.get(key="default")
    assert state.pull_cursor >= feed_seq and state.cloud_reachable and state.last_success_at
    assert services.status()["status"]["failed_sync_count"] == 1


def test_delivered_flag_set_after_ack(hub_client, monkeypatch):
    spec = registry.spec_for("wells.field")
    monkeypatch.setattr(spec, "delivered_flag", "name")  # any field: the flag update is a plain queryset update
    f = Field.objects.create(code="FFLAG", name="x")
    calls = []
    monkeypatch.setattr(type(spec.model._base_manager.all()), "update",
                        lambda qs, **kw: calls.append((set(qs.values_list("pk", flat=True)), kw)) or 1)
    Forwarder(client=hub_client).run_once()
    assert ({f.pk}, {"name": True}) in calls


def test_unreachable_hub_counts_failures(settings):
    settings.SYNC_PULL_ENABLED = False
    result = Forwarder(client=HubClient("http://127.0.0.1:9", "x:y", timeout=1)).run_once()
    assert not result.ok and "unreachable" in result.error
    state = SyncState.objects.get(key="default")
    assert state.consecutive_failures == 1 and state.cloud_reachable is False and state.last_attempt_at
