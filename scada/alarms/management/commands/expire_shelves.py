from apps.core.management.base import AuditedCommand
from scada.alarms.services import expire_shelves


class Command(AuditedCommand):
    help = "Return shelved alarms whose shelving time is up (the gateway does this every second)."

    def handle(self, *args, **opts):
        self.stdout.write(f"{expire_shelves()} alarm(s) returned from shelving.")
