from django.core.management.base import BaseCommand, CommandError

from apps.ops.backup import BackupError, Progress, describe, verify_archive
from apps.ops.management.commands._common import add_passphrase_argument, read_passphrase


class Command(BaseCommand):
    help = "Check a backup archive (structure, manifest, checksums, database readability) without restoring it."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        add_passphrase_argument(parser)

    def handle(self, *args, **options):
        progress = Progress(self.stdout._out, quiet=options["verbosity"] == 0)
        try:
            verified = verify_archive(options["archive"], passphrase=read_passphrase(options), progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc))
        try:
            self.stdout.write(describe(verified.manifest), ending="")
            self.stdout.write(self.style.SUCCESS("OK"))
        finally:
            verified.cleanup()
