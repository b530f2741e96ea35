"""Edge: list, retry or export the events the hub rejected and the forwarder quarantined."""

from django.core.management.base import CommandError

from apps.core.management.base import AuditedCommand
from apps.sync import services
from apps.sync.choices import EventState
from apps.sync.models import OutboxEvent


class Command(AuditedCommand):
    help = "Quarantined sync events: list | retry [SEQUENCE ...] | export [--format json|csv]."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "retry", "export"])
        parser.add_argument("sequences", nargs="*", type=int)
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, action, sequences, **options):
        if action == "list":
            for e in OutboxEvent.objects.filter(state=EventState.QUARANTINED).order_by("sequence"):
                self.stdout.write(f"#{e.sequence}\t{e.op}\t{e.aggregate_type}\t{e.aggregate_id}\t"
                                  f"attempts={e.attempts}\t{e.last_error}")
        elif action == "retry":
            n = services.retry_quarantined(sequences or None)
            if sequences and n != len(sequences):
                raise CommandError(f"Only {n} of the {len(sequences)} given events were quarantined.")
            self.stdout.write(f"{n} event(s) back in the queue")
        else:
            self.stdout.write(services.export_quarantined(options["format"]))
