from django.core.management.base import CommandError

from apps.core.management.base import AuditedCommand
from apps.ops.backup import BackupError
from apps.ops.updates import UpdateError, apply_bundle


class Command(AuditedCommand):
    help = ("Apply a signed update bundle: verify its Ed25519 signature and version, back up, unpack, migrate, "
            "check, switch the release and restart; roll back to the backup if any step fails.")

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("--allow-same-version", action="store_true",
                            help="re-install the running version (repair)")

    def handle(self, *args, **options):
        try:
            run = apply_bundle(options["bundle"], out=self.stdout, allow_same_version=options["allow_same_version"])
        except (UpdateError, BackupError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"updated to {run.bundle.version}"))
