import datetime as dt

from apps.core.management.base import AuditedCommand
from apps.maintenance.services import generate_due_work_orders


class Command(AuditedCommand):
    help = "Create the preventive work orders now due (never twice for the same plan and due point)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                            help="Pretend today is this date (YYYY-MM-DD).")

    def handle(self, *args, **options):
        created = generate_due_work_orders(today=options["date"])
        for wo in created:
            self.stdout.write(f"{wo.number} {wo.title}")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} preventive work order(s) created."))
