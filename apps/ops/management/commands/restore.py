import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.db import DatabaseError, connection

from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.core.management.base import AuditedCommand
from apps.ops.backup import (
    BackupError,
    Progress,
    check_compatible,
    database_is_empty,
    describe,
    restore_archive,
    verify_archive,
)
from apps.ops.management.commands._common import add_passphrase_argument, read_passphrase


class Command(AuditedCommand):
    help = ("Verify a backup archive, then restore it into an empty database (or, after confirmation or with "
            "--force, wipe the current one). Ends with the row counts compared to the manifest.")

    def add_arguments(self, parser):
        parser.add_argument("archive")
        add_passphrase_argument(parser)
        parser.add_argument("--force", action="store_true", help="wipe a non-empty database without asking")

    def handle(self, *args, **options):
        progress = Progress(self.stdout._out, quiet=options["verbosity"] == 0)
        try:
            verified = verify_archive(options["archive"], passphrase=read_passphrase(options), progress=progress)
        except BackupError as exc:
            raise CommandError(f"{str(exc).rstrip('.')}. Nothing was changed.")
        try:
            manifest = verified.manifest
            self.stdout.write(describe(manifest), ending="")
            try:
                check_compatible(manifest)
            except BackupError as exc:
                raise CommandError(f"{str(exc).rstrip('.')}. Nothing was changed.")
            wipe = options["force"]
            if not wipe and not database_is_empty():
                wipe = self._confirm()
            try:
                mismatches = restore_archive(verified, wipe=wipe, progress=progress)
            except BackupError as exc:
                raise CommandError(str(exc))
            # The audit table itself was just restored: this row is written into the restored database.
            try:
                record(AuditAction.COMMAND, object_type="ops.restore", object_id=Path(options["archive"]).name[:64],
                       object_repr=str(options["archive"])[-200:],
                       message=f"restored backup of {manifest.get('created_at')} ({len(mismatches)} tables differ)")
            except DatabaseError as exc:  # an archive of an older schema: the audit table may not match yet
                self.stderr.write(f"the restore could not be audited ({exc}); run migrate, then check the data")
            self._report(manifest, mismatches)
        finally:
            verified.cleanup()

    def _confirm(self) -> bool:
        name = connection.settings_dict.get("NAME")
        if not sys.stdin.isatty():
            raise CommandError(f"the database {name} is not empty: run again with --force to wipe it and restore. "
                               "Nothing was changed.")
        answer = input(f"The database {name} is NOT empty. Type its name to wipe it and restore: ")
        if answer.strip() != str(name):
            raise CommandError("not confirmed. Nothing was changed.")
        return True

    def _report(self, manifest, mismatches):
        self.stdout.write(f"{'table':<48} {'manifest':>10} {'restored':>10}")
        for table, meta in sorted(manifest["tables"].items()):
            got = mismatches.get(table, (meta, meta))[1]
            rows = got["rows"] if got else "-"
            mark = "" if table not in mismatches else "  MISMATCH"
            self.stdout.write(f"{table:<48} {meta['rows']:>10} {rows:>10}{mark}")
        if mismatches:
            raise CommandError(f"{len(mismatches)} tables differ from the manifest: {', '.join(sorted(mismatches))}")
        self.stdout.write(self.style.SUCCESS(f"restore complete: {len(manifest['tables'])} tables match the manifest"))
