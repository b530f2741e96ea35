from apps.core.management.base import AuditedCommand
from apps.core.rbac import sync_roles


class Command(AuditedCommand):
    help = "Re-apply the role x action policy (apps.core.rbac) to the five role groups. Runs after every migrate."

    def handle(self, *args, **opts):
        counts = sync_roles()
        for role, n in counts.items():
            self.stdout.write(f"{role:<11} {n} permissions")
