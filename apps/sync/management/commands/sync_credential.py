"""Hub: issue, rotate, revoke or list the per-edge sync credentials (the token is printed once)."""

from pathlib import Path

from django.core.management.base import CommandError

from apps.core.management.base import AuditedCommand
from apps.sync import services
from apps.sync.models import EdgeCredential


class Command(AuditedCommand):
    help = "Manage edge sync credentials on the hub: issue | rotate | revoke | list."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["issue", "rotate", "revoke", "list"])
        parser.add_argument("edge_id", nargs="?")
        parser.add_argument("--description", default="")
        parser.add_argument("--grace-hours", type=float, default=None,
                            help="rotate: hours the previous token stays valid")
        parser.add_argument("--token-file", help="Write the token to this file (mode 600) instead of printing it.")

    def handle(self, *args, action, edge_id=None, **options):
        if action == "list":
            for c in EdgeCredential.objects.all():
                self.stdout.write(f"{c.edge_id}\tactive={c.is_active}\tscopes={','.join(c.scopes)}\t"
                                  f"last_push={c.last_push_at}\trotated={c.rotated_at}")
            return
        if not edge_id:
            raise CommandError("Give the edge id.")
        try:
            if action == "issue":
                _, token = services.issue_credential(edge_id, options["description"])
            elif action == "rotate":
                from datetime import timedelta

                grace = None if options["grace_hours"] is None else timedelta(hours=options["grace_hours"])
                _, token = services.rotate_credential(edge_id, grace)
            else:
                services.revoke_credential(edge_id)
                self.stdout.write(f"{edge_id}: revoked")
                return
        except (ValueError, EdgeCredential.DoesNotExist) as exc:
            raise CommandError(str(exc) if isinstance(exc, ValueError) else f"No credential for {edge_id!r}.")
        if options["token_file"]:
            path = Path(options["token_file"])
            path.touch(mode=0o600)
            path.write_text(token + "\n")
            self.stdout.write(f"{edge_id}: token written to {path}")
        else:
            self.stdout.write(token)
