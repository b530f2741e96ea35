from django.db import transaction

from apps.core.demo import DEMO_LOADERS, DEMO_PASSWORDS
from apps.core.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Load demo data (idempotent: running it again updates the same records) and print the demo logins."

    def handle(self, *args, **opts):
        for loader in DEMO_LOADERS:
            with transaction.atomic():
                loader(self.stdout)
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password / role):")
        for username, password in DEMO_PASSWORDS.items():
            self.stdout.write(f"  {username:<11} {password:<18} {username}")
