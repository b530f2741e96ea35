"""Write an upsert event for every existing row of the synced models this box sends.

Only changes write outbox events, so rows that existed before their model was registered never travel, and a later
record pointing at one of them is rejected at the receiver. Run this once after an upgrade that registers new models
(on an edge: what it sends up; on the hub: its master data, to re-seed edges). Safe to repeat: the receiver upserts
by primary key, and append-only models are inserted or ignored.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from apps.core.management.base import AuditedCommand
from apps.sync import registry
from apps.sync.models import OutboxEvent


class Command(AuditedCommand):
    help = "Queue an upsert event for every existing row of the synced models this box sends (targets first)."

    def add_arguments(self, parser):
        parser.add_argument("labels", nargs="*", help="app_label.model (default: every model this box sends)")
        parser.add_argument("--include-append-only", action="store_true",
                            help="also the audit trail and the alarm journal (large; off by default)")
        parser.add_argument("--chunk", type=int, default=2000, help="rows per INSERT of outbox events (>= 1)")

    def handle(self, *args, labels, include_append_only, chunk, **options):
        if chunk < 1:
            raise CommandError(f"--chunk must be at least 1 (got {chunk}).")
        role = settings.EDGE_ROLE
        sending = {s.label: s for s in registry.specs() if s.pushes_from(role)}
        unknown = set(labels) - set(sending)
        if unknown:
            raise CommandError(f"Not synced from this box ({role}): {', '.join(sorted(unknown))}")
        wanted = [label for label in (labels or sending) if include_append_only or labels
                  or not sending[label].append_only]
        total = 0
        for label in registry.dependency_order(wanted):
            spec = sending[label]
            names = {f.name for f in spec.model._meta.concrete_fields}
            # Parents before children within a model too (self references), as they were made.
            order = ["created_at", "pk"] if "created_at" in names else ["pk"]
            rows = spec.model._base_manager.order_by(*order)
            n, events = 0, []
            with transaction.atomic():
                for obj in rows.iterator(chunk_size=chunk):
                    events.append(registry.event_for(spec, obj, "upsert", registry.serialize(spec, obj)))
                    if len(events) >= chunk:  # one INSERT per chunk, not per row (the audit trail is large)
                        n += len(OutboxEvent.objects.bulk_create(events))
                        events = []
                if events:
                    n += len(OutboxEvent.objects.bulk_create(events))
            total += n
            self.stdout.write(f"{label}\t{n}")
        self.stdout.write(f"{total} event(s) queued")
