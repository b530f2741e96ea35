"""The transactional outbox on the edge: one event per change of a synced record, in the change's transaction."""

import pytest
from django.db import transaction

from apps.core.models import AuditEvent, Notification
from apps.sync import registry
from apps.sync.choices import EventState
from apps.sync.models import OutboxEvent
from apps.wells.models import Field, Site, Well

pytestmark = pytest.mark.django_db


def events(label=None):
    qs = OutboxEvent.objects.order_by("sequence")
    return list(qs.filter(aggregate_type=label) if label else qs)


def test_create_update_delete_of_a_well_write_events_in_order(world, settings):
    settings.EDGE_ID = "edge-t"
    well = Well.objects.create(site=world.site_a, name="W01", uwi="UWI-1")
    well.name = "W01-renamed"
    well.save()
    well_id = str(well.pk)
    well.delete()
    evs = events("wells.well")
    assert [e.op for e in evs] == ["upsert", "upsert", "delete"]
    assert all(e.aggregate_id == well_id and e.edge_id == "edge-t" and e.state == EventState.PENDING for e in evs)
    assert evs[0].sequence < evs[1].sequence < evs[2].sequence
    assert evs[1].payload["name"] == "W01-renamed"
    assert evs[1].payload["site_id"] == str(world.site_a.pk)
    # user foreign keys never travel (user ids differ between boxes)
    assert "created_by_id" not in evs[0].payload and "updated_by_id" not in evs[0].payload
    assert evs[2].payload == {}


def test_rolled_back_change_leaves_no_event(world):
    before = OutboxEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Well.objects.create(site=world.site_a, name="W02", uwi="UWI-2")
        raise RuntimeError("abort")
    assert OutboxEvent.objects.count() == before
    assert not Well.objects.filter(name="W02").exists()


def test_failed_outbox_write_rolls_the_change_back(world, monkeypatch):
    """Same transaction both ways: if the outbox row cannot be written, the change is not kept either."""

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry, "_write", boom)
    with pytest.raises(RuntimeError):
        Site.objects.create(field=world.field_a, code="SX1", name="X")
    assert not Site.objects.filter(code="SX1").exists()


def test_audit_events_are_synced_append_only(world):
    labels = {e.aggregate_type for e in events()}
    assert {"wells.field", "wells.site", "core.auditevent"} <= labels
    audit = events("core.auditevent")[0]
    row = AuditEvent.objects.get(pk=audit.aggregate_id)
    assert audit.payload["actor_name"] == row.actor_name and "actor_id" not in audit.payload
    assert registry.spec_for("core.auditevent").append_only


def test_remote_changes_write_no_event(world):
    before = OutboxEvent.objects.count()
    with registry.applying_remote():
        Field.objects.create(code="FR", name="Remote")
    assert OutboxEvent.objects.count() == before


def test_hub_role_publishes_only_down_models(db, settings):
    settings.EDGE_ROLE = "hub"
    field = Field.objects.create(code="FH", name="Hub field")  # direction both: feeds the edges
    Site.objects.create(field=field, code="SH1", name="Hub site")  # direction up: the hub does not send it
    assert [e.aggregate_type for e in events()] == ["wells.field"]
    assert events()[0].state == EventState.DELIVERED  # published in the feed, not waiting for a forwarder


def test_a_model_opts_in_by_registration(personas):
    # Notification stands in for a model of another app (its app is not edited: it registers from outside)
    assert registry.spec_for("core.notification") is None
    try:
        registry.register(Notification, registry.UP, exclude=("body",))
        fields = {f.name for f in registry.spec_for("core.notification").fields}
        assert "body" not in fields and "recipient" not in fields  # user foreign keys never travel
        Notification.objects.create(recipient=personas["operator"], subject="hello", body="secret")
        (ev,) = events("core.notification")
        assert ev.payload["subject"] == "hello" and "body" not in ev.payload
    finally:
        registry.unregister(Notification)
    Notification.objects.create(recipient=personas["operator"], subject="not synced")
    assert len(events("core.notification")) == 1


def test_declared_attribute_registers(db, monkeypatch):
    monkeypatch.setattr(Notification, "sync_direction", "down", raising=False)
    try:
        registry.register_declared()
        assert registry.spec_for("core.notification").direction == "down"
    finally:
        registry.unregister(Notification)


def test_a_model_field_named_synced_is_not_a_declaration(monkeypatch):
    class Fake:
        synced = object()  # e.g. a model field's descriptor

    assert registry.declared_direction(Fake) is None
    Fake.synced = True
    assert registry.declared_direction(Fake) == "up"


def test_models_without_uuid_keys_are_refused():
    with pytest.raises(ValueError, match="UUID"):
        registry.register(OutboxEvent)


def test_dependency_order_puts_targets_first():
    assert registry.dependency_order(["wells.well", "wells.site", "wells.field"]) == [
        "wells.field", "wells.site", "wells.well"
    ]

