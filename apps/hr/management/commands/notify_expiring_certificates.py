import datetime as dt

from apps.core.management.base import AuditedCommand
from apps.hr.services import notify_expiring_certificates


class Command(AuditedCommand):
    help = "Notify certificates expiring within HR_CERT_EXPIRY_NOTICE_DAYS (once per certificate)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Pretend today is this date.")

    def handle(self, *args, **options):
        count = notify_expiring_certificates(options["date"])
        self.stdout.write(self.style.SUCCESS(f"{count} certificate(s) notified."))
