"""Rewrite every stock balance from the moves and reservations (``inventory.services.rebuild_balances``).

The hub rebuilds the balances of what it receives as it applies it; run this once on the hub after the upgrade that
brought that (moves received before have no balance there), or on any box whose ``verify_balances`` reports drift.
Balances that would be impossible (moves or reservations missing) are listed and left as they are (exit code 1).
"""

from django.core.management.base import CommandError

from apps.core.management.base import AuditedCommand
from apps.inventory import services


class Command(AuditedCommand):
    help = "Rewrite every stock balance from the moves and reservations; list those that cannot be (moves missing)."

    def handle(self, *args, **options):
        before = services.verify_balances()
        problems = services.rebuild_balances()
        for problem in problems:
            self.stderr.write(problem)
        self.stdout.write(f"{len(before)} difference(s) found, {len(problems)} balance(s) left as they were")
        if problems:
            raise CommandError(f"{len(problems)} balance(s) could not be rebuilt (moves or reservations missing)")
