"""The batched paths: a batch mixing valid, duplicate, stale and poison events keeps its per-event results; the
compiled payload check never accepts what Django's validation rejects; a batch above SYNC_BATCH_MAX_BYTES is split
into several requests."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.sync import registry, services
from apps.sync.choices import EventState
from apps.sync.forwarder import Forwarder, split_by_size
from apps.sync.models import AggregateVersion, OutboxEvent, ReceivedEvent
from apps.wells.models import Field, Well
from tests.sync.helpers import credential, event, push
from tests.sync.test_forwarder_inprocess import InProcessHub

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(settings):
    settings.EDGE_ROLE = "hub"
    settings.EDGE_ID = "hub"
    return APIClient()


def well_payload(site_id, name: str, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "site_id": str(site_id), "name": name, "uwi": f"U-{name}",
            "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z", **extra}


def test_mixed_batch_keeps_per_event_results(hub, world):
    token = credential("edge-mix")
    site = world.site_a
    w1 = well_payload(site.pk, "MIX-1")
    w2 = well_payload(site.pk, "MIX-2")
    first = event("wells.well", w1, sequence=10)
    assert [r["status"] for r in push(hub, token, [first]).json()["results"]] == ["accepted"]

    w1_newer = event("wells.well", {**w1, "name": "MIX-1b"}, sequence=12)
    w1_older = event("wells.well", {**w1, "name": "MIX-1-old"}, sequence=9)  # older than what is applied
    ok = event("wells.well", w2, sequence=11)
    poison = event("wells.well", {**well_payload(site.pk, "MIX-3"), "status": "not-a-status"}, sequence=13)
    unknown_field = event("wells.well", {**well_payload(site.pk, "MIX-4"), "colour": "red"}, sequence=14)
    dangling = event("wells.well", well_payload(uuid.uuid4(), "MIX-5"), sequence=15)  # its site exists nowhere
    audit_id = str(uuid.uuid4())
    audit = event("core.auditevent", {"id": audit_id, "at": "2026-01-01T00:00:00Z", "actor_name": "op1",
                                      "channel": "ui", "ip": None, "request_id": "", "action": "create",
                                      "object_type": "wells.well", "object_id": w2["id"], "object_repr": "MIX-2",
                                      "changes": {}, "message": "", "field_code": "", "site_code": ""}, sequence=16)
    batch = [first, ok, w1_older, poison, w1_newer, unknown_field, ok, dangling, audit, "not an event"]
    results = push(hub, token, batch).json()["results"]
    assert [r["status"] for r in results] == [
        "duplicate", "accepted", "stale", "rejected", "accepted", "rejected", "duplicate", "rejected", "accepted",
        "rejected",
    ]
    assert [r["event_id"] for r in results[:9]] == [e["event_id"] for e in batch[:9]]
    assert "status" in results[3]["reason"]
    assert "unknown field(s) colour" in results[5]["reason"]
    assert results[7]["reason"].startswith("integrity")
    assert Well.objects.get(pk=w1["id"]).name == "MIX-1b"
    assert Well.objects.filter(pk=w2["id"]).exists()
    assert not Well.objects.filter(name__in=["MIX-3", "MIX-4", "MIX-5"]).exists()
    assert AuditEvent.objects.filter(pk=audit_id).exists()
    # receipts: the applied and the stale ones, never the rejected; versions not kept for the append-only audit row
    received = set(ReceivedEvent.objects.filter(edge_id="edge-mix").values_list("event_id", flat=True))
    assert {str(e) for e in received} == {first["event_id"], ok["event_id"], w1_older["event_id"],
                                          w1_newer["event_id"], audit["event_id"]}
    assert not AggregateVersion.objects.filter(aggregate_id=audit_id).exists()
    # the whole batch again: everything recorded is a duplicate, the rejected are rejected again (not recorded)
    again = [r["status"] for r in push(hub, token, batch).json()["results"]]
    assert again == ["duplicate", "duplicate", "duplicate", "rejected", "duplicate", "rejected", "duplicate",
                     "rejected", "duplicate", "rejected"]


def test_values_off_the_fast_path_are_still_validated_and_normalised(hub, world):
    """Values the compiled check cannot prove (a decimal, a number for a text field, a bad date) take Django's
    per-field path: converted as before, or rejected with Django's reason."""
    token = credential("edge-slow")
    site = world.site_a
    p = well_payload(site.pk, "SLOW-1", surface_latitude="12.500000", datum_elevation_m=7, uwi=12345)
    bad = well_payload(site.pk, "SLOW-2", spud_date="2026-13-45", surface_latitude="999")
    results = push(hub, token, [event("wells.well", p, sequence=1), event("wells.well", bad, sequence=2)]).json()
    assert [r["status"] for r in results["results"]] == ["accepted", "rejected"]
    stored = Well.objects.get(pk=p["id"])
    assert stored.surface_latitude == Decimal("12.5") and stored.uwi == "12345" and stored.datum_elevation_m == 7
    reason = results["results"][1]["reason"]
    assert "spud_date" in reason and "surface_latitude" in reason


CANDIDATES = [
    None, "", " ", "x", "W01", "a" * 40, "a" * 70, "a" * 300, "\x00bad", "bad code!", "FA", "producing",
    "not-a-choice", "update", "system", 0, 5, -3, 2**40, 5.5, True, False, {}, {"a": 1}, [], [1, 2],
    "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456+00:00", "2026-01-02", "2026-13-45", "yesterday",
    "12.500000", "1e400", "192.168.0.1", "not-an-ip", str(uuid.uuid4()), str(uuid.uuid4()).upper(),
    uuid.uuid4().hex, "0" * 36,
]


def _django_accepts(f, value) -> bool:
    try:
        value = f.to_python(value)
        if not f.is_relation and not (f.blank and value in f.empty_values):
            f.validate(value, None)
            f.run_validators(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("label", ["wells.well", "wells.field", "wells.site", "core.auditevent"])
def test_compiled_check_never_accepts_what_django_rejects(label):
    spec = registry.spec_for(label)
    checks = services._compile(spec).checks
    proved = 0
    for f in spec.fields:
        check = checks[f.attname]
        if check is None:
            continue
        for value in CANDIDATES:
            if check(value):
                proved += 1
                assert _django_accepts(f, value), (label, f.attname, value)
    assert proved  # the fast path is in use


def test_split_by_size():
    assert list(split_by_size([10, 10, 10], 100)) == [(0, 3)]
    assert list(split_by_size([10, 10, 10], 22)) == [(0, 2), (2, 3)]
    assert list(split_by_size([50, 10], 20)) == [(0, 1), (1, 2)]  # one event above the cap travels alone
    assert list(split_by_size([], 20)) == []


def test_batch_above_the_byte_cap_is_split_into_several_requests(db, settings):
    settings.SYNC_PIPELINE = False
    settings.EDGE_ROLE = "hub"
    token = services.issue_credential("edge-split")[1]
    settings.EDGE_ROLE = "edge"
    settings.EDGE_ID = "edge-split"
    for i in range(12):
        Field.objects.create(code=f"FS{i:02d}", name=f"Split {i} " + "x" * 100)
    pending = OutboxEvent.objects.filter(state=EventState.PENDING).count()
    assert pending >= 12

    class Counting(InProcessHub):
        pushes: list = []

        def push_docs(self, docs, backlog=None, **kwargs):
            self.pushes.append(len(docs))
            return super().push_docs(docs, backlog, **kwargs)

    client = Counting(token)
    result = Forwarder(client=client, batch_size=1000, max_bytes=2048).run_once()
    assert result.ok, result.error
    assert result.batches == 1 and len(client.pushes) > 1 and sum(client.pushes) == pending
    assert not OutboxEvent.objects.filter(state=EventState.PENDING).exists()
    settings.EDGE_ROLE = "hub"
    assert Field.objects.filter(code__startswith="FS").count() == 12
    assert ReceivedEvent.objects.filter(edge_id="edge-split").count() == pending
