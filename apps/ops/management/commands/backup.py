import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.core.management.base import AuditedCommand
from apps.ops.backup import BackupError, Progress, create_backup
from apps.ops.management.commands._common import add_passphrase_argument, read_passphrase

log = logging.getLogger(__name__)


class Command(AuditedCommand):
    help = "Back up the database and the uploaded media into one verified archive, then rotate old archives."

    def add_arguments(self, parser):
        parser.add_argument("--dest", help="destination directory (default OPS_BACKUP_DIR), e.g. a USB disk or NAS")
        add_passphrase_argument(parser)
        parser.add_argument("--keep", type=int, help="archives to keep in the destination (default OPS_BACKUP_KEEP)")

    def handle(self, *args, **options):
        dest = Path(options["dest"] or settings.OPS_BACKUP_DIR)
        progress = Progress(self.stdout._out, quiet=options["verbosity"] == 0)
        try:
            result = create_backup(dest, passphrase=read_passphrase(options), keep=options["keep"],
                                   progress=progress)
        except BackupError as exc:
            log.error("backup to %s failed: %s", dest, exc)
            record(AuditAction.COMMAND, object_type="ops.backup", object_repr=str(dest),
                   message=f"backup failed: {exc}")
            raise CommandError(str(exc))
        record(AuditAction.COMMAND, object_type="ops.backup", object_id=result.path.name[:64],
               object_repr=str(result.path), message=f"backup written ({result.size} bytes)",
               changes={"removed": [p.name for p in result.removed]})
        return None
