from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError


def add_passphrase_argument(parser) -> None:
    parser.add_argument(
        "--passphrase-file",
        help="file holding the archive passphrase (default: OPS_BACKUP_PASSPHRASE / OPS_BACKUP_PASSPHRASE_FILE)",
    )


def read_passphrase(options) -> str | None:
    """The passphrase from --passphrase-file, else the setting. Never from the command line (it would show in ps)."""
    name = options.get("passphrase_file")
    if name:
        try:
            value = Path(name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CommandError(f"--passphrase-file {name}: {exc.strerror}")
        if not value:
            raise CommandError(f"--passphrase-file {name} is empty")
        return value
    return getattr(settings, "OPS_BACKUP_PASSPHRASE", None) or None
