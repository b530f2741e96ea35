"""Signed updates of a bare-metal box (reference: signed bundles, backup first, automatic rollback).

A bundle is a tar file ``wellsite-update-<version>.tar``::

    bundle.json   format, version, created_at, sha256/size of payload.tar.gz, sha256 of its requirements.txt
    bundle.sig    Ed25519 signature of the exact bytes of bundle.json (release private key)
    payload.tar.gz  the application tree of the new version (manage.py, erp/, apps/, scada/, templates/, static/ ...)

``apply_update`` verifies the signature against OPS_UPDATE_PUBLIC_KEY, the payload checksum and the version (newer
than the running one), then: backup -> unpack into OPS_RELEASES_DIR/<version> -> migrate with the new code (which
runs its system checks first) -> ``migrate --check`` of the new code -> switch the OPS_CURRENT_LINK symlink
atomically -> OPS_UPDATE_RESTART_COMMAND -> poll OPS_UPDATE_HEALTH_URL. Any failure after the backup restores the
database from that backup, points the symlink back and restarts the previous release. Every step is logged and
audited.

The packages (requirements.txt) must be those installed: a bundle needing other packages is refused (ship it as a new
container image instead; see docs/operations.md).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.ops import backup as backups

log = logging.getLogger(__name__)

FORMAT = "wellsite-update"
FORMAT_VERSION = 1
MANIFEST, SIGNATURE, PAYLOAD = "bundle.json", "bundle.sig", "payload.tar.gz"
EXCLUDE_DIRS = {".git", ".venv", "venv", "var", "__pycache__", "node_modules", ".pytest_cache", ".ruff_cache",
                "secrets", "backups", "tests", "bench", ".ci"}
EXCLUDE_FILES = {".env"}


class UpdateError(Exception):
    """An update problem, with a message meant for the operator."""


# --- keys and versions ------------------------------------------------------------------------------------------
def load_public_key(text: str) -> Ed25519PublicKey:
    text = (text or "").strip().replace("\\n", "\n")
    if not text:
        raise UpdateError("no release public key is configured (OPS_UPDATE_PUBLIC_KEY): refusing every bundle")
    try:
        if "BEGIN PUBLIC KEY" in text:
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as exc:
        raise UpdateError(f"OPS_UPDATE_PUBLIC_KEY is not an Ed25519 public key ({exc})")
    if not isinstance(key, Ed25519PublicKey):
        raise UpdateError("OPS_UPDATE_PUBLIC_KEY is not an Ed25519 public key")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise UpdateError(f"cannot read the Ed25519 private key {path}: {exc}")
    if not isinstance(key, Ed25519PrivateKey):
        raise UpdateError(f"{path} is not an Ed25519 private key")
    return key


def generate_keys(prefix: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", str(text).strip())
    if not match:
        raise UpdateError(f"version {text!r} is not MAJOR.MINOR.PATCH")
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


def source_version(source: Path) -> str:
    text = (Path(source) / "erp" / "__init__.py").read_text()
    match = re.search(r"__version__\s*=\s*[\"']([^\"']+)[\"']", text)
    if not match:
        raise UpdateError(f"no __version__ in {source}/erp/__init__.py")
    return match.group(1)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- building ---------------------------------------------------------------------------------------------------
def make_bundle(source: Path, private_key: Path, dest: Path) -> Path:
    source = Path(source)
    version = source_version(source)
    parse_version(version)
    key = load_private_key(private_key)
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if any(part in EXCLUDE_DIRS for part in relative.parts) or path.name in EXCLUDE_FILES:
                continue
            if path.suffix in (".pyc", ".sqlite3") or path.is_symlink() or not path.is_file():
                continue
            tar.add(path, arcname=str(relative), recursive=False)
    payload_bytes = payload.getvalue()
    requirements = source / "requirements.txt"
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "version": version,
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "payload": {"name": PAYLOAD, "sha256": _sha256(payload_bytes), "size": len(payload_bytes)},
        "requirements_sha256": _sha256(requirements.read_bytes()) if requirements.exists() else None,
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
    signature = key.sign(manifest_bytes)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"wellsite-update-{version}.tar"
    with tarfile.open(target, "w") as tar:
        for name, data in ((MANIFEST, manifest_bytes), (SIGNATURE, signature), (PAYLOAD, payload_bytes)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return target


# --- verifying --------------------------------------------------------------------------------------------------
@dataclass
class Bundle:
    path: Path
    manifest: dict
    payload: bytes

    @property
    def version(self) -> str:
        return self.manifest["version"]


def read_bundle(path: Path, public_key_text: str | None = None) -> Bundle:
    """Signature, checksums and format; raises UpdateError for an unsigned, tampered or unreadable bundle."""
    path = Path(path)
    key = load_public_key(public_key_text if public_key_text is not None else settings.OPS_UPDATE_PUBLIC_KEY)
    try:
        with tarfile.open(path, "r:") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            if MANIFEST not in members:
                raise UpdateError(f"{path.name}: not an update bundle (no {MANIFEST})")
            if SIGNATURE not in members:
                raise UpdateError(f"{path.name}: the bundle is not signed: refused")
            manifest_bytes = tar.extractfile(members[MANIFEST]).read()
            signature = tar.extractfile(members[SIGNATURE]).read()
            try:
                key.verify(signature, manifest_bytes)
            except InvalidSignature:
                raise UpdateError(f"{path.name}: the signature does not match the release key (tampered or "
                                  "signed by another key): refused")
            manifest = json.loads(manifest_bytes)
            if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
                raise UpdateError(f"{path.name}: unsupported bundle format")
            parse_version(manifest.get("version", ""))
            if PAYLOAD not in members:
                raise UpdateError(f"{path.name}: the payload is missing (truncated)")
            payload = tar.extractfile(members[PAYLOAD]).read()
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise UpdateError(f"{path.name}: the bundle cannot be read ({exc.__class__.__name__}: {exc})")
    expected = manifest.get("payload") or {}
    if len(payload) != expected.get("size") or _sha256(payload) != expected.get("sha256"):
        raise UpdateError(f"{path.name}: the payload does not match its signed checksum (tampered): refused")
    return Bundle(path, manifest, payload)


def check_installable(bundle: Bundle, *, allow_same_version: bool = False) -> None:
    current, offered = parse_version(settings.VERSION), parse_version(bundle.version)
    if offered < current:
        raise UpdateError(f"the bundle is older ({bundle.version}) than the running version ({settings.VERSION}): "
                          "refused (restore a backup to go back)")
    if offered == current and not allow_same_version:
        raise UpdateError(f"version {bundle.version} is already running")
    installed = Path(settings.BASE_DIR) / "requirements.txt"
    wanted = bundle.manifest.get("requirements_sha256")
    if wanted and installed.exists() and _sha256(installed.read_bytes()) != wanted:
        raise UpdateError("the bundle needs other Python packages than those installed: ship it as a new container "
                          "image (docs/operations.md, Updates)")


# --- applying ---------------------------------------------------------------------------------------------------
@dataclass
class UpdateRun:
    bundle: Bundle
    steps: list[str] = field(default_factory=list)
    backup_path: Path | None = None
    release_dir: Path | None = None
    previous_target: str | None = None


def _step(run: UpdateRun, message: str, out=None, *, failed: bool = False) -> None:
    run.steps.append(message)
    (log.error if failed else log.info)("update %s: %s", run.bundle.version, message)
    if out is not None:
        out.write(f"{message}\n")
        out.flush()
    try:
        record(AuditAction.COMMAND, object_type="ops.update", object_id=run.bundle.version[:64],
               object_repr=f"update to {run.bundle.version}", message=message[:1000])
    except Exception:  # noqa: BLE001 - the database may be the thing that is failing; the log line remains
        log.warning("update %s: could not audit step %r", run.bundle.version, message)


def _run(cmd: list[str], cwd: Path, timeout: int = 1800) -> None:
    env = {**os.environ}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise UpdateError(f"`{' '.join(cmd[1:])}` failed: " + " | ".join(tail))


def _switch_link(link: Path, target: Path | str | None) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if target is None:
        link.unlink(missing_ok=True)
        return
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    os.replace(temporary, link)  # atomic: the services see either the old or the new release


def _restart() -> None:
    command = settings.OPS_UPDATE_RESTART_COMMAND
    if command:
        proc = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise UpdateError(f"restart command failed: {proc.stderr.strip()[-300:]}")


def _wait_healthy() -> None:
    url = settings.OPS_UPDATE_HEALTH_URL
    if not url:
        return
    deadline = time.monotonic() + settings.OPS_UPDATE_HEALTH_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - configured local URL
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(2)
    raise UpdateError(f"the health check {url} did not pass: {last}")


def apply_bundle(path: Path, *, out=None, allow_same_version: bool = False) -> UpdateRun:
    bundle = read_bundle(path)
    check_installable(bundle, allow_same_version=allow_same_version)
    run = UpdateRun(bundle)
    _step(run, f"bundle {Path(path).name} verified: version {bundle.version}, signature valid", out)

    passphrase = settings.OPS_BACKUP_PASSPHRASE or None
    result = backups.create_backup(Path(settings.OPS_BACKUP_DIR), passphrase=passphrase)
    run.backup_path = result.path
    _step(run, f"backup taken: {result.path}", out)

    link = Path(settings.OPS_CURRENT_LINK)
    run.previous_target = os.readlink(link) if link.is_symlink() else None
    try:
        release = Path(settings.OPS_RELEASES_DIR) / bundle.version
        if release.exists():
            shutil.rmtree(release)
        release.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(bundle.payload), mode="r:gz") as tar:
            tar.extractall(release, filter="data")
        run.release_dir = release
        _step(run, f"release unpacked into {release}", out)
        # migrate runs the new release's system checks first (and stops on an error).
        _run([sys.executable, str(release / "manage.py"), "migrate", "--noinput"], release)
        _step(run, "migrations applied by the new release", out)
        _run([sys.executable, str(release / "manage.py"), "migrate", "--check"], release)
        _step(run, "new release checks passed (system checks, no pending migration)", out)
        _switch_link(link, release)
        _step(run, f"{link} -> {release}", out)
        _restart()
        _wait_healthy()
        _step(run, f"update to {bundle.version} complete: services healthy", out)
        return run
    except (UpdateError, OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
        _step(run, f"update failed: {exc}; rolling back", out, failed=True)
        _rollback(run, link, out)
        raise UpdateError(f"update to {bundle.version} failed and was rolled back: {exc}")


def _rollback(run: UpdateRun, link: Path, out) -> None:
    from django.db import connections

    connections.close_all()
    _switch_link(link, run.previous_target)
    passphrase = settings.OPS_BACKUP_PASSPHRASE or None
    verified = backups.verify_archive(run.backup_path, passphrase=passphrase)
    try:
        mismatches = backups.restore_archive(verified, wipe=True)
    finally:
        verified.cleanup()
    if run.release_dir is not None:
        shutil.rmtree(run.release_dir, ignore_errors=True)
    try:
        _restart()
    except UpdateError as exc:
        _step(run, f"rollback: restart of the previous release failed: {exc}", out, failed=True)
    # The restore put back the audit trail as it was at the backup: record the failed attempt again.
    steps = list(run.steps)
    _step(run, f"rolled back to the backup {run.backup_path.name} ({len(mismatches)} tables differ); "
               f"steps before: {' / '.join(steps)[:600]}", out, failed=True)
