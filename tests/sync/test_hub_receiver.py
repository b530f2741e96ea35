"""The hub's receiver: edge authentication, de-duplication, idempotent upserts, per-event results, the pull feed."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.sync import services
from apps.sync.models import AggregateVersion, EdgeCredential, OutboxEvent, ReceivedEvent
from apps.wells.models import Field, Site
from tests.sync.helpers import credential, event, field_payload, gz, push

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(settings):
    settings.EDGE_ROLE = "hub"
    settings.EDGE_ID = "hub"
    return APIClient()


def statuses(resp):
    return [r["status"] for r in resp.json()["results"]]


def test_push_applies_and_redelivery_changes_nothing(hub):
    token = credential("edge-a")
    f = field_payload("FN1")
    site_id = str(uuid.uuid4())
    site = {"id": site_id, "field_id": f["id"], "code": "SN1", "name": "Site N1", "kind": "pad",
            "latitude": "12.500000", "longitude": None}
    batch = [event("wells.field", f, sequence=1), event("wells.site", site, sequence=2)]
    # deliberately site first: the hub orders by dependency, not by arrival
    resp = push(hub, token, list(reversed(batch)), edge_id="edge-a")
    assert resp.status_code == 200, resp.content
    assert statuses(resp) == ["accepted", "accepted"]
    stored = Field.objects.get(pk=f["id"])
    assert stored.code == "FN1"
    assert stored.created_at.isoformat().startswith("2026-01-02T03:04:05")  # the edge's timestamps are kept
    assert str(Site.objects.get(pk=site_id).latitude) == "12.500000"
    rows = ReceivedEvent.objects.filter(edge_id="edge-a").count()

    again = push(hub, token, batch)
    assert statuses(again) == ["duplicate", "duplicate"]
    assert ReceivedEvent.objects.filter(edge_id="edge-a").count() == rows
    assert EdgeCredential.objects.get(edge_id="edge-a").events_received == 2


def test_last_write_wins_and_older_events_are_stale(hub):
    token = credential("edge-b")
    f = field_payload("FV1")
    v1 = event("wells.field", {**f, "name": "v1"}, sequence=10)
    v2 = event("wells.field", {**f, "name": "v2"}, sequence=11)
    assert statuses(push(hub, token, [v1, v2])) == ["accepted", "accepted"]
    assert Field.objects.get(pk=f["id"]).name == "v2"
    v0 = event("wells.field", {**f, "name": "v0"}, sequence=9)  # late, e.g. from a second forwarder
    assert statuses(push(hub, token, [v0])) == ["stale"]
    assert Field.objects.get(pk=f["id"]).name == "v2"
    assert AggregateVersion.objects.get(aggregate_id=f["id"]).sequence == 11
    # The edge's highest sequence is kept on its credential (a late, lower one does not lower it).
    assert EdgeCredential.objects.get(edge_id="edge-b").last_sequence == 11
    v3 = event("wells.field", {}, sequence=12, op="delete", aggregate_id=f["id"])
    assert statuses(push(hub, token, [v3])) == ["accepted"]
    assert not Field.objects.filter(pk=f["id"]).exists()
    assert EdgeCredential.objects.get(edge_id="edge-b").last_sequence == 12
    assert services.edges_overview()[0]["last_sequence"] == 12
    received = ReceivedEvent.objects.filter(edge_id="edge-b")
    assert sorted(received.values_list("sequence", "outcome")) == [(9, "stale"), (10, "accepted"), (11, "accepted"),
                                                                   (12, "accepted")]
    assert received.filter(pk=("edge-b", v3["event_id"])).exists()  # the composite primary key


def test_invalid_events_are_rejected_with_reasons_and_the_rest_applied(hub, world):
    token = credential("edge-c")
    good = event("wells.field", field_payload("FG1"), sequence=1)
    bad = [
        event("nope.model", {"id": str(uuid.uuid4())}, sequence=2),
        event("wells.field", field_payload("bad code!"), sequence=3),
        event("wells.field", {**field_payload("FG2"), "colour": "red"}, sequence=4),
        {**event("wells.field", field_payload("FG3"), sequence=5), "event_id": "not-a-uuid"},
        {**event("wells.field", field_payload("FG4"), sequence=6), "op": "merge"},
        event("wells.site", {"id": str(uuid.uuid4()), "field_id": str(uuid.uuid4()), "code": "SO1", "name": "x",
                             "kind": "pad"}, sequence=7),  # its field exists nowhere
        event("wells.field", {**field_payload("FA")}, sequence=8),  # code FA is taken by another record
        event("sync.outboxevent", {"id": 1}, sequence=9),
    ]
    resp = push(hub, token, [good, *bad])
    results = resp.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] + ["rejected"] * len(bad)
    reasons = [r["reason"] for r in results[1:]]
    assert "not synced" in reasons[0]
    assert reasons[1].startswith("payload: code")
    assert "unknown field(s) colour" in reasons[2]
    assert reasons[3].startswith("event_id")
    assert reasons[4].startswith("op")
    assert reasons[5].startswith("integrity")
    assert reasons[6].startswith("integrity")
    assert Field.objects.filter(code="FG1").exists()
    assert not Site.objects.filter(code="SO1").exists()
    # rejected events are not recorded: the edge may retry them once fixed
    assert ReceivedEvent.objects.filter(edge_id="edge-c").count() == 1


def test_delete_refused_by_protect_is_rejected(hub, world):
    token = credential("edge-d")
    ev = event("wells.field", {}, sequence=1, op="delete", aggregate_id=world.field_a.pk)
    result = push(hub, token, [ev]).json()["results"][0]
    assert result["status"] == "rejected" and "refer" in result["reason"]
    assert Field.objects.filter(pk=world.field_a.pk).exists()


def test_audit_events_are_inserted_never_overwritten(hub):
    token = credential("edge-e")
    audit_id = str(uuid.uuid4())
    payload = {"id": audit_id, "at": "2026-01-01T00:00:00Z", "actor_name": "op1", "channel": "ui", "ip": None,
               "request_id": "r1", "action": "create", "object_type": "wells.well", "object_id": "x",
               "object_repr": "W1", "changes": {"name": [None, "W1"]}, "message": "", "field_code": "FA",
               "site_code": "SA1"}
    assert statuses(push(hub, token, [event("core.auditevent", payload, sequence=1)])) == ["accepted"]
    tampered = event("core.auditevent", {**payload, "actor_name": "intruder"}, sequence=2)
    assert statuses(push(hub, token, [tampered])) == ["accepted"]
    assert AuditEvent.objects.get(pk=audit_id).actor_name == "op1"


def test_authentication(hub, anon_api):
    token = credential("edge-f")
    ev = [event("wells.field", field_payload("FT1"), sequence=1)]
    resp = push(hub, "edge-f:wrong", ev)
    assert resp.status_code == 401 and resp.json()["error"] and resp.json()["message"]
    resp = anon_api.generic("POST", "/api/v1/sync/push", gz({"events": ev}), content_type="application/json",
                            HTTP_CONTENT_ENCODING="gzip")
    assert resp.status_code in (401, 403)
    assert push(hub, token, ev, edge_id="edge-other").json()["details"][0]["field"] == "edge_id"

    # rotation: the old token keeps working during the grace period, then not
    _, new = services.rotate_credential("edge-f", timedelta(hours=1))
    assert push(hub, token, ev).status_code == 200
    assert push(hub, new, ev).status_code == 200
    EdgeCredential.objects.filter(edge_id="edge-f").update(previous_valid_until=timezone.now() - timedelta(1))
    assert push(hub, token, ev).status_code == 401
    # a credential without the sync scope, or revoked, is refused
    EdgeCredential.objects.filter(edge_id="edge-f").update(scopes=["other"])
    assert push(hub, new, ev).status_code == 401
    EdgeCredential.objects.filter(edge_id="edge-f").update(scopes=["sync"])
    services.revoke_credential("edge-f")
    assert push(hub, new, ev).status_code == 401
    assert EdgeCredential.objects.get(edge_id="edge-f").token_hash != new  # only the hash is stored


def test_malformed_bodies_get_the_error_envelope(hub, settings):
    token = credential("edge-g")
    resp = push(hub, token, [], raw=b"not gzip")
    assert resp.status_code == 400 and resp.json()["error"] == "parse_error"
    resp = push(hub, token, [], raw=gz({"events": "x"}))
    assert resp.status_code == 400
    assert resp.json()["details"] == [{"field": "events", "error": "Must be a list of events."}]
    settings.SYNC_MAX_BODY_BYTES = 2048
    big = [event("wells.field", field_payload(f"FZ{i}"), sequence=i) for i in range(200)]
    resp = push(hub, token, big)
    assert resp.status_code == 413
    assert resp.json()["error"] == "payload_too_large" and resp.json()["max_bytes"] == 2048
    # Small once compressed, over the limit once gunzipped: refused too (a zip bomb cannot fill the hub's memory).
    resp = push(hub, token, [], raw=gz({"events": [], "pad": "x" * 10_000}))
    assert resp.status_code == 413 and resp.json()["max_bytes"] == 2048


def test_push_is_refused_on_an_edge(db, settings):
    settings.EDGE_ROLE = "hub"
    token = credential("edge-h")
    settings.EDGE_ROLE = "edge"
    resp = push(APIClient(), token, [])
    assert resp.status_code == 404


def test_pull_feed_pages_by_cursor(hub, settings):
    settings.SYNC_PULL_SETTLE_SECONDS = 0
    token = credential("edge-p")
    for i in range(5):
        Field.objects.create(code=f"FP{i}", name=f"P{i}")  # authored at the hub: published to the feed
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Sync {token}")
    page = client.get("/api/v1/sync/pull", {"cursor": 0, "limit": 3}).json()
    assert len(page["events"]) == 3 and page["more"] is True
    rest = client.get("/api/v1/sync/pull", {"cursor": page["cursor"], "limit": 3}).json()
    assert len(rest["events"]) == 2 and rest["more"] is False
    codes = [e["payload"]["code"] for e in page["events"] + rest["events"]]
    assert codes == [f"FP{i}" for i in range(5)]
    bad = client.get("/api/v1/sync/pull", {"cursor": -1, "limit": 0})
    assert bad.status_code == 400 and {d["field"] for d in bad.json()["details"]} == {"cursor", "limit"}
    # events younger than the settle delay are held back
    settings.SYNC_PULL_SETTLE_SECONDS = 60
    Field.objects.create(code="FP9", name="late")
    assert client.get("/api/v1/sync/pull", {"cursor": rest["cursor"]}).json()["events"] == []


def test_edge_applies_pulled_master_data_without_echo(db, settings):
    settings.EDGE_ROLE = "edge"
    f = field_payload("FD1")
    ev = event("wells.field", f, sequence=3)
    results = services.apply_events([ev, event("wells.site", {"id": str(uuid.uuid4())}, sequence=4)], "hub")
    assert [r["status"] for r in results] == ["accepted", "rejected"]  # sites only travel up
    assert Field.objects.filter(pk=f["id"]).exists()
    assert not OutboxEvent.objects.filter(aggregate_id=f["id"]).exists()  # not sent back up
    assert services.apply_events([ev], "hub")[0]["status"] == "duplicate"


def test_edges_listing_for_supervisors_on_the_hub(hub, api_for):
    token = credential("edge-l")
    hub.generic("POST", "/api/v1/sync/push", gz({"events": [], "backlog": {"pending": 42, "quarantined": 1}}),
                content_type="application/json", HTTP_CONTENT_ENCODING="gzip", HTTP_AUTHORIZATION=f"Sync {token}")
    rows = api_for("supervisor").get("/api/v1/sync/edges").json()["results"]
    assert rows[0]["edge_id"] == "edge-l" and rows[0]["backlog"] == 42 and rows[0]["quarantined"] == 1
    assert api_for("operator").get("/api/v1/sync/edges").status_code == 403


def test_pruned_receipts_do_not_let_an_old_event_back_in(hub):
    token = credential("edge-r")
    f = field_payload("FR1")
    v1 = event("wells.field", {**f, "name": "v1"}, sequence=1)
    v2 = event("wells.field", {**f, "name": "v2"}, sequence=2)
    push(hub, token, [v1, v2])
    ReceivedEvent.objects.filter(edge_id="edge-r").update(received_at=timezone.now() - timedelta(days=30))
    assert services.prune_delivered(7) == 2
    assert statuses(push(hub, token, [v1])) == ["stale"]
    assert Field.objects.get(pk=f["id"]).name == "v2"


@pytest.mark.django_db(transaction=True)
def test_pipelined_batch_waits_for_the_batch_sent_before_it(hub, settings, monkeypatch):
    """The forwarder sends batch 2 (naming batch 1's last sequence as ``after``) before batch 1 is answered. If batch 2
    reaches the lock first, it waits for batch 1: both apply in order, nothing arrives stale."""
    import threading

    from django.db import connections

    token = credential("edge-p")
    f = field_payload("FP1")
    first = [event("wells.field", {**f, "name": "one"}, sequence=20),
             event("wells.field", {**f, "name": "two"}, sequence=21)]
    second = [event("wells.field", {**f, "name": "three"}, sequence=22)]
    answers = {}
    waiting = threading.Event()
    real_wait = services.wait_for_predecessor

    def observed_wait(edge_id, after, timeout=None):
        waiting.set()
        return real_wait(edge_id, after, timeout)

    monkeypatch.setattr(services, "wait_for_predecessor", observed_wait)

    def later():
        try:
            answers["second"] = push(hub.__class__(), token, second, raw=gz({"events": second, "after": 21}))
        finally:
            connections.close_all()

    thread = threading.Thread(target=later)
    thread.start()
    # Batch 2 is validated and waiting for batch 1 (its predecessor), not applied.
    assert waiting.wait(30)
    assert thread.is_alive() and not Field.objects.filter(pk=f["id"]).exists()
    assert statuses(push(hub, token, first)) == ["accepted", "accepted"]
    thread.join(30)
    assert statuses(answers["second"]) == ["accepted"]  # applied after batch 1: not stale
    assert Field.objects.get(pk=f["id"]).name == "three"
    assert EdgeCredential.objects.get(edge_id="edge-p").pipeline_tail == 22


@pytest.mark.django_db(transaction=True)
def test_pipelined_batch_whose_predecessor_never_comes_is_applied_after_the_wait(hub, settings):
    settings.SYNC_PIPELINE_WAIT_SECONDS = 0.3
    token = credential("edge-q")
    f = field_payload("FQ1")
    late = [event("wells.field", {**f, "name": "newer"}, sequence=31)]
    assert statuses(push(hub, token, late, raw=gz({"events": late, "after": 30}))) == ["accepted"]
    # The batch it waited for (failed, sent again later) now arrives stale: the newer value stays.
    assert statuses(push(hub, token, [event("wells.field", {**f, "name": "older"}, sequence=30)])) == ["stale"]
    assert Field.objects.get(pk=f["id"]).name == "newer"


@pytest.mark.parametrize("after", ["21", -1, 2.5, True])
def test_push_refuses_a_malformed_after(hub, after):
    token = credential("edge-r")
    resp = push(hub, token, [], raw=gz({"events": [], "after": after}))
    assert resp.status_code == 400
    assert "after" in resp.content.decode()


def _audit(**extra) -> dict:
    return {"id": str(uuid.uuid4()), "at": "2026-01-01T00:00:00Z", "actor_name": "op1", "channel": "ui", "ip": None,
            "request_id": "r1", "action": "update", "object_type": "wells.well", "object_id": "x",
            "object_repr": "W1", "changes": {}, "message": "", "field_code": "FA", "site_code": "SA1", **extra}


def _journal(site_id, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "site_id": str(site_id), "tag_name": "W01.THP", "kind": "HH",
            "at": "2026-01-01T00:00:00Z", "event": "raise", "from_state": "NORMAL", "to_state": "UNACKED",
            "value": 91.5, "occurrence": 1, "actor_name": "system", "comment": "", **extra}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_append_only_records_are_inserted_before_the_edges_lock(hub, monkeypatch):
    """The audit trail is written before the batch waits for its predecessor and takes the edge's lock (so the
    writes under the lock are only those that need versions); it is still answered, de-duplicated and received
    once like every event."""
    token = credential("edge-pre")
    audits = [_audit(), _audit()]
    f = field_payload("FPRE")
    batch = [event("core.auditevent", audits[0], sequence=1), event("wells.field", f, sequence=2),
             event("core.auditevent", audits[1], sequence=3)]
    seen_before_lock = {}
    real_wait = services.wait_for_predecessor

    def observed_wait(edge_id, after, timeout=None):
        seen_before_lock["audit"] = AuditEvent.objects.filter(pk__in=[a["id"] for a in audits]).count()
        seen_before_lock["field"] = Field.objects.filter(pk=f["id"]).exists()
        return real_wait(edge_id, after, timeout)

    monkeypatch.setattr(services, "wait_for_predecessor", observed_wait)
    assert statuses(push(hub, token, batch)) == ["accepted"] * 3
    assert seen_before_lock == {"audit": 2, "field": False}
    assert ReceivedEvent.objects.filter(edge_id="edge-pre").count() == 3
    assert not AggregateVersion.objects.filter(aggregate_type="core.auditevent").exists()
    # Redelivered: duplicates, nothing written twice.
    assert statuses(push(hub, token, batch)) == ["duplicate"] * 3
    assert AuditEvent.objects.filter(pk__in=[a["id"] for a in audits]).count() == 2
    assert ReceivedEvent.objects.filter(edge_id="edge-pre").count() == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_append_only_record_whose_target_comes_in_the_same_batch_is_applied_under_the_lock(hub):
    """An alarm-journal row naming a site that arrives in the same batch cannot go in before the lock (its site is
    not there yet): its group is applied under the lock after the site, as before. A journal row naming a site
    that exists nowhere is rejected with the database's reason, and its neighbours are accepted."""
    from scada.alarms.models import AlarmJournal

    token = credential("edge-pre2")
    field = field_payload("FPRE2")
    site = {"id": str(uuid.uuid4()), "field_id": field["id"], "code": "SPRE2", "name": "Pad", "kind": "pad"}
    fine, orphan = _journal(site["id"]), _journal(uuid.uuid4())
    audit = _audit()
    batch = [event("wells.field", field, sequence=1), event("wells.site", site, sequence=2),
             event("alarms.alarmjournal", fine, sequence=3), event("alarms.alarmjournal", orphan, sequence=4),
             event("core.auditevent", audit, sequence=5)]
    results = push(hub, token, batch).json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "accepted", "rejected", "accepted"]
    assert results[3]["reason"].startswith("integrity")
    assert AlarmJournal.objects.filter(pk=fine["id"], site_id=site["id"]).exists()
    assert not AlarmJournal.objects.filter(pk=orphan["id"]).exists()
    assert AuditEvent.objects.filter(pk=audit["id"]).exists()
    # The rejected one is not received: once its site exists it is accepted when sent again.
    assert ReceivedEvent.objects.filter(edge_id="edge-pre2").count() == 4


def test_an_older_event_of_a_deleted_append_only_record_is_stale(hub, world):
    """Append-only records have no version row, so their look-up is skipped, unless a delete gave one: then an
    older upsert arriving late (a re-sent batch) is stale and does not bring the row back."""
    from scada.alarms.models import AlarmJournal

    token = credential("edge-del")
    entry = _journal(world.site_a.pk)
    assert statuses(push(hub, token, [event("alarms.alarmjournal", entry, sequence=1)])) == ["accepted"]
    gone = event("alarms.alarmjournal", {}, sequence=5, op="delete", aggregate_id=entry["id"])
    assert statuses(push(hub, token, [gone])) == ["accepted"]
    late = event("alarms.alarmjournal", entry, sequence=3)
    assert statuses(push(hub, token, [late, event("core.auditevent", _audit(), sequence=6)])) == ["stale", "accepted"]
    assert not AlarmJournal.objects.filter(pk=entry["id"]).exists()
