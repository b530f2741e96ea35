"""Store-and-forward sync: the transactional outbox, the forwarder's state, and the hub's receiving side.

State transitions of an OutboxEvent (only in apps.sync.forwarder / apps.sync.services):
pending -> delivered (the hub acknowledged it: accepted, duplicate or stale);
pending -> quarantined (rejected SYNC_MAX_REJECTIONS times; reason in last_error);
quarantined -> pending (an administrator retries it: services.retry_quarantined).
Delivered events are kept SYNC_RETENTION_DAYS days (services.prune_delivered), then deleted.

These tables are infrastructure, not business records: they are not audited (the change they carry already is) and
they are not BaseModels (the outbox must not write outbox events about itself).
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from apps.core import rbac
from apps.core.ids import uuid7
from apps.sync.choices import EventState, Op, Outcome


class OutboxEvent(models.Model):
    """One change of a synced record, written in the same transaction as the change. ``sequence`` orders them."""

    sequence = models.BigAutoField(primary_key=True)
    # Time-ordered (apps/core/ids.py uuid7: the millisecond and 74 random bits). No index: nothing on this box looks
    # an event up by its id (the receiver de-duplicates by (edge, event id) in its receipts' primary key), and a
    # unique index here cost an index entry on every synced save and again on every "delivered" UPDATE (5,000
    # rows: 30-37 ms with it, 22 ms without).
    event_id = models.UUIDField(default=uuid7, editable=False)
    edge_id = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=100, help_text="app_label.model")
    aggregate_id = models.CharField(max_length=64)
    op = models.CharField(max_length=8, choices=Op.choices)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=12, choices=EventState.choices, default=EventState.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Times the hub rejected it.")
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    rbac = {rbac.SUPERVISOR: ("view",)}

    class Meta:
        ordering = ["sequence"]
        # Partial indexes: only the waiting (pending) and the quarantined rows are indexed by state. A delivered row
        # leaves them, so marking a batch delivered adds no entry to them and they stay as small as the backlog,
        # while the delivered rows kept SYNC_RETENTION_DAYS are reached by sequence (the primary key) only.
        # (The UPDATE cannot be HOT: PostgreSQL counts the columns of an index predicate as indexed.)
        indexes = [
            models.Index(fields=["sequence"], condition=models.Q(state="pending"), name="sync_outbox_pending"),
            models.Index(fields=["sequence"], condition=models.Q(state="quarantined"), name="sync_outbox_quarantined"),
            # Pending only: marking an event delivered writes a new row version, and a full index on these random
            # ids took an entry per delivery (lookups by record are of pending events: the delivered flag).
            models.Index(fields=["aggregate_type", "aggregate_id"], condition=models.Q(state="pending"),
                         name="sync_outbox_pending_aggregate"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.op} {self.aggregate_type} {self.aggregate_id} ({self.state})"


class SyncState(models.Model):
    """The forwarder's memory on this box (one row per key, "default" for the push link)."""

    key = models.CharField(max_length=32, primary_key=True, default="default")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    cloud_reachable = models.BooleanField(default=False)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    pull_cursor = models.BigIntegerField(default=0, help_text="Last hub feed sequence applied here.")
    watermarks = models.JSONField(default=dict, blank=True, help_text="Telemetry stream -> last forwarded mark.")
    alert_level = models.CharField(max_length=12, default="ok", help_text="Last backlog alert level notified.")

    class Meta:
        verbose_name = "sync state"

    def __str__(self):
        return f"sync state {self.key}"


class EdgeCredential(models.Model):
    """Hub side: an edge allowed to push, with the SHA-256 of its token (the token itself is shown once).

    Rotation keeps the previous token valid until ``previous_valid_until`` so an edge can be reconfigured without
    losing sync.
    """

    edge_id = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64)
    previous_token_hash = models.CharField(max_length=64, blank=True)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, help_text='Granted scopes, e.g. ["sync"].')
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    events_received = models.BigIntegerField(default=0)
    last_sequence = models.BigIntegerField(
        null=True, blank=True, help_text="Highest outbox sequence received from this edge (kept per batch)."
    )
    pipeline_tail = models.BigIntegerField(
        null=True, blank=True,
        help_text="Highest sequence of the batches applied from this edge (its next pipelined batch waits for it).",
    )
    reported_backlog = models.BigIntegerField(null=True, blank=True, help_text="Pending count the edge reported.")
    reported_quarantined = models.BigIntegerField(null=True, blank=True)
    reported_oldest_age = models.BigIntegerField(null=True, blank=True, help_text="Seconds.")

    rbac = {rbac.SUPERVISOR: ("view",)}

    class Meta:
        ordering = ["edge_id"]

    def __str__(self):
        return self.edge_id


class ReceivedEvent(models.Model):
    """Hub side: one row per event applied from an edge; the (edge, event id) key de-duplicates redeliveries.

    The key is the primary key itself (no surrogate id, no other index: one index maintained per receipt, the
    hub's most frequent insert). The last sequence per edge is kept on EdgeCredential.last_sequence.
    """

    pk = models.CompositePrimaryKey("edge_id", "event_id")
    edge_id = models.CharField(max_length=64)
    event_id = models.UUIDField()
    sequence = models.BigIntegerField()
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=64)
    op = models.CharField(max_length=8, choices=Op.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "received event"

    def __str__(self):
        return f"{self.edge_id} #{self.sequence} {self.aggregate_type} {self.aggregate_id}"


class AggregateVersion(models.Model):
    """The last applied version of each synced record on this box, so an older event arriving late is ignored."""

    id = models.BigAutoField(primary_key=True)
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=64)
    origin = models.CharField(max_length=64, help_text="Edge id (or 'hub') whose event was applied last.")
    sequence = models.BigIntegerField()
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["aggregate_type", "aggregate_id"], name="sync_version_aggregate")
        ]

    def __str__(self):
        return f"{self.aggregate_type} {self.aggregate_id} @ {self.origin}#{self.sequence}"
