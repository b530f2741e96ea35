"""Backup, verification and restore of the box: the database (pg_dump custom format on PostgreSQL, including the
historian; SQLite's online backup API on SQLite) plus uploaded media, in one tar archive with a manifest.

Archive (``wellsite-backup-<edge>-<UTC stamp>.tar``, or ``.tar.enc`` when encrypted with a passphrase)::

    manifest.json        format, product version, engine, applied migrations, per-table row counts and content
                         checksums, sha256 and size of every other member
    database.pgdump      (PostgreSQL) pg_dump -Fc of the whole database
    database.sqlite3.gz  (SQLite) a consistent copy made with the online backup API, gzip-compressed
    media.tar            the uploaded files under MEDIA_ROOT (absent when there are none)

A table's content checksum is an order-independent sum of per-row hashes (computed in the server on PostgreSQL,
streamed through Python on SQLite), identical after a faithful round trip on the same engine.

``restore`` verifies everything before touching the database; on PostgreSQL the wipe (when forced) and the whole
restore run in ONE transaction (psql --single-transaction), on SQLite the backup API writes the live file atomically:
a failure at any point leaves the database as it was.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction

from apps.ops import crypto

log = logging.getLogger(__name__)

FORMAT = "wellsite-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PG_MEMBER = "database.pgdump"
SQLITE_MEMBER = "database.sqlite3.gz"
SQLITE_PLAIN = "database.sqlite3"  # decompressed next to the verified members
MEDIA_MEMBER = "media.tar"
ARCHIVE_GLOBS = ("wellsite-backup-*.tar", "wellsite-backup-*.tar.enc")
_MOD = 2**256


class BackupError(Exception):
    """A backup, verification or restore problem, with a message meant for the operator."""


# --- progress ---------------------------------------------------------------------------------------------------
class Progress:
    """A bar on a terminal, plain ``label: NN%`` lines otherwise (logs, cron, Celery)."""

    def __init__(self, stream=None, tty: bool | None = None, quiet: bool = False):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None and hasattr(self.stream, "isatty") else bool(tty)
        self.quiet = quiet
        self._last: tuple[str, int] | None = None

    def step(self, label: str, done: float | None = None, total: float | None = None) -> None:
        if self.quiet:
            return
        if done is None or not total:
            self._end_bar()
            self.stream.write(f"{label}\n")
            self.stream.flush()
            return
        pct = max(0, min(100, int(done * 100 / total)))
        if self.tty:
            bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
            self.stream.write(f"\r{label:<32} [{bar}] {pct:3d}%")
            if pct >= 100:
                self.stream.write("\n")
                self._last = None
            else:
                self._last = (label, pct)
        else:
            # Plain lines every 10 % so a log is not flooded.
            bucket = pct // 10 * 10
            if self._last != (label, bucket):
                self.stream.write(f"{label}: {bucket}%\n")
                self._last = (label, bucket)
        self.stream.flush()

    def _end_bar(self):
        if self.tty and self._last is not None:
            self.stream.write("\n")
        self._last = None


# --- helpers ----------------------------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def engine_of(conn=None) -> str:
    vendor = (conn or connection).vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"backups support PostgreSQL and SQLite, not {vendor}")
    return vendor


def applied_migrations(conn=None) -> list[str]:
    conn = conn or connection
    with conn.cursor() as cursor:
        if "django_migrations" not in conn.introspection.table_names(cursor):
            return []
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [f"{app}.{name}" for app, name in cursor.fetchall()]


def known_migrations() -> set[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def user_tables(conn=None) -> list[str]:
    conn = conn or connection
    with conn.cursor() as cursor:
        return sorted(conn.introspection.table_names(cursor, include_views=False))


def _canonical(value) -> bytes:
    if isinstance(value, memoryview):
        value = value.tobytes()
    return repr(value).encode("utf-8", "surrogatepass")


def fingerprint(conn=None, progress: Progress | None = None) -> dict[str, dict]:
    """{table: {"rows": n, "checksum": hex}} for every table of the database (order independent).

    PostgreSQL computes it in the server (md5 of each row's text, summed in two 60-bit halves: no row crosses the
    wire, which matters for the historian); SQLite streams the rows through sha256 summed modulo 2**256."""
    conn = conn or connection
    tables = user_tables(conn)
    result: dict[str, dict] = {}
    for number, table in enumerate(tables, 1):
        name = conn.ops.quote_name(table)
        if conn.vendor == "postgresql":
            # Table names come from introspection and are quoted.
            sql = (
                "SELECT count(*), coalesce(sum(('x' || substr(h, 1, 15))::bit(60)::bigint), 0), "  # noqa: S608
                "coalesce(sum(('x' || substr(h, 16, 15))::bit(60)::bigint), 0) "
                "FROM (SELECT md5(t::text) AS h FROM " + name + " t) s"
            )
            with conn.cursor() as cursor:
                cursor.execute(sql)
                rows, high, low = cursor.fetchone()
            result[table] = {"rows": rows, "checksum": f"{int(high):x}-{int(low):x}"}
        else:
            total, rows = 0, 0
            with conn.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {name}")  # noqa: S608 - names from introspection
                while batch := cursor.fetchmany(5000):
                    for row in batch:
                        digest = hashlib.sha256(b"\x1f".join(_canonical(v) for v in row)).digest()
                        total = (total + int.from_bytes(digest, "big")) % _MOD
                    rows += len(batch)
            result[table] = {"rows": rows, "checksum": f"{total:064x}"}
        if progress:
            progress.step("checksumming tables", number, len(tables))
    return result


def pg_binary(name: str) -> str:
    """Find pg_dump/pg_restore/psql: OPS_PG_BIN_DIR, then the newest /usr/lib/postgresql/*/bin, then PATH.

    The newest installed version is preferred over PATH because pg_dump refuses a server newer than itself."""
    configured = getattr(settings, "OPS_PG_BIN_DIR", "") or ""
    candidates = []
    if configured:
        candidates.append(Path(configured) / name)

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    candidates += [Path(p) for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True)]
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client) or set OPS_PG_BIN_DIR")


def pg_env(conn=None) -> dict[str, str]:
    """libpq variables for the configured database: the password goes in the environment, never on a command line."""
    db = (conn or connection).settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    mapping = {"PGHOST": db.get("HOST"), "PGPORT": db.get("PORT"), "PGUSER": db.get("USER"),
               "PGPASSWORD": db.get("PASSWORD"), "PGDATABASE": db.get("NAME")}
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        mapping["PGSSLMODE"] = options["sslmode"]
    env.update({k: str(v) for k, v in mapping.items() if v not in (None, "")})
    return env


def _drain(stream, sink: list[str], on_line=None):
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        sink.append(line)
        if on_line:
            on_line(line)


def _has_timescaledb(conn) -> bool:
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        return cursor.fetchone() is not None


# --- backup -----------------------------------------------------------------------------------------------------
@dataclass
class BackupResult:
    path: Path
    manifest: dict
    size: int
    removed: list[Path] = field(default_factory=list)


def archive_name(stamp: datetime, encrypted: bool) -> str:
    edge = "".join(c if c.isalnum() or c in "-_" else "-" for c in settings.EDGE_ID)
    return f"wellsite-backup-{edge}-{stamp:%Y%m%dT%H%M%SZ}.tar" + (".enc" if encrypted else "")


def _dump_postgresql(target: Path, progress: Progress, table_count: int, snapshot: str | None = None) -> None:
    cmd = [pg_binary("pg_dump"), "--format=custom", "--compress=6", "--no-owner", "--no-privileges", "--verbose",
           f"--file={target}"]
    if snapshot:
        cmd.append(f"--snapshot={snapshot}")
    proc = subprocess.Popen(cmd, env=pg_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines: list[str] = []
    done = [0]

    def on_line(line):
        if "dumping contents of table" in line:
            done[0] += 1
            progress.step("dumping the database", min(done[0], table_count), max(table_count, 1))

    reader = threading.Thread(target=_drain, args=(proc.stderr, lines, on_line), daemon=True)
    reader.start()
    code = proc.wait()
    reader.join()
    if code != 0:
        errors = [line for line in lines if "error" in line.lower()][-5:]
        raise BackupError("pg_dump failed: " + ("; ".join(errors) or f"exit code {code}"))
    progress.step("dumping the database", 1, 1)


def _snapshot_postgresql(target: Path, progress: Progress) -> tuple[dict, list[str], bool]:
    """Counts, checksums and pg_dump from ONE snapshot (a REPEATABLE READ transaction whose snapshot pg_dump
    shares), so the manifest describes exactly the dump even while the gateway writes."""
    if connection.in_atomic_block:  # inside someone's transaction: no snapshot to export; counts taken just before
        tables = fingerprint(progress=progress)
        _dump_postgresql(target, progress, len(tables))
        return tables, applied_migrations(), _has_timescaledb(connection)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        tables = fingerprint(progress=progress)
        migrations = applied_migrations()
        timescale = _has_timescaledb(connection)
        _dump_postgresql(target, progress, len(tables), snapshot=snapshot)
    return tables, migrations, timescale


@contextlib.contextmanager
def sqlite_file_connection(path: Path):
    """A Django connection to another SQLite file (same converters as the live connection, so same checksums)."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings_dict = {**connections["default"].settings_dict, "NAME": str(path), "OPTIONS": {}}
    if connections["default"].vendor != "sqlite":
        settings_dict.update({"ENGINE": "django.db.backends.sqlite3", "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
                              "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "TIME_ZONE": None, "TEST": {}})
    wrapper = DatabaseWrapper(settings_dict, alias=f"ops-{path.name}")
    try:
        yield wrapper
    finally:
        wrapper.close()


def _dump_sqlite(target: Path, progress: Progress) -> None:
    source_path = connection.settings_dict["NAME"]
    if not source_path or str(source_path) == ":memory:" or not Path(source_path).exists():
        raise BackupError(f"the SQLite database file {source_path!r} does not exist")
    src = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        # The online backup API copies a consistent snapshot while the gateway keeps writing.
        src.backup(dst, pages=256, progress=lambda status, remaining, total: progress.step(
            "copying the database", total - remaining, total))
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    progress.step("copying the database", 1, 1)


def _gzip(source: Path, target: Path, progress: Progress) -> None:
    total = source.stat().st_size
    done = 0
    with open(source, "rb") as src, gzip.open(target, "wb", compresslevel=6) as out:
        for block in iter(lambda: src.read(4 * 1024 * 1024), b""):
            out.write(block)
            done += len(block)
            progress.step("compressing the database", done, total)
    source.unlink()


def _tar_media(target: Path, progress: Progress) -> bool:
    media = Path(settings.MEDIA_ROOT)
    files = [p for p in sorted(media.rglob("*")) if p.is_file() and not p.is_symlink()] if media.is_dir() else []
    if not files:
        return False
    with tarfile.open(target, "w") as tar:
        for number, path in enumerate(files, 1):
            tar.add(path, arcname=str(path.relative_to(media)), recursive=False)
            progress.step("archiving media", number, len(files))
    return True


def create_backup(dest: Path, *, passphrase: str | None = None, keep: int | None = None,
                  progress: Progress | None = None) -> BackupResult:
    progress = progress or Progress(quiet=True)
    engine = engine_of()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix=".wellsite-partial-", dir=dest) as tmp:
        work = Path(tmp)
        progress.step(f"backup of the {engine} database started")
        members: list[str] = []
        if engine == "postgresql":
            tables, migrations, timescale = _snapshot_postgresql(work / PG_MEMBER, progress)
            members.append(PG_MEMBER)
        else:
            _dump_sqlite(work / SQLITE_PLAIN, progress)
            # Counts and checksums of the copy itself: exactly what the archive holds, whatever was written since.
            with sqlite_file_connection(work / SQLITE_PLAIN) as copy:
                tables = fingerprint(copy, progress=progress)
                migrations = applied_migrations(copy)
            timescale = False
            _gzip(work / SQLITE_PLAIN, work / SQLITE_MEMBER, progress)
            members.append(SQLITE_MEMBER)
        if _tar_media(work / MEDIA_MEMBER, progress):
            members.append(MEDIA_MEMBER)
        files = {}
        for number, name in enumerate(members, 1):
            files[name] = {"sha256": sha256_file(work / name), "size": (work / name).stat().st_size}
            progress.step("computing checksums", number, len(members))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "product_version": settings.VERSION,
            "created_at": stamp.isoformat(),
            "edge_id": settings.EDGE_ID,
            "edge_role": settings.EDGE_ROLE,
            "engine": engine,
            "timescaledb": timescale,
            "migrations": migrations,
            "tables": tables,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        plain = work / "archive.tar"
        with tarfile.open(plain, "w") as tar:
            for name in [MANIFEST, *members]:
                tar.add(work / name, arcname=name, recursive=False)
        final = dest / archive_name(stamp, bool(passphrase))
        partial = work / (final.name + ".partial")
        if passphrase:
            progress.step("encrypting the archive")
            with open(plain, "rb") as src, open(partial, "wb") as out:
                crypto.encrypt_stream(src, out, passphrase)
        else:
            plain.rename(partial)
        os.replace(partial, final)  # atomic: a crash never leaves a half archive under a backup name
    removed = rotate(dest, keep if keep is not None else settings.OPS_BACKUP_KEEP, progress)
    size = final.stat().st_size
    record_last_backup(final, stamp, size)
    progress.step(f"backup written: {final} ({size} bytes, {len(tables)} tables)")
    log.info("backup written: %s (%d bytes, %d tables, %d rotated out)", final, size, len(tables), len(removed))
    return BackupResult(final, manifest, size, removed)


def rotate(dest: Path, keep: int, progress: Progress | None = None) -> list[Path]:
    """Keep the ``keep`` newest archives in ``dest`` (names sort by their UTC stamp); delete the others."""
    if keep <= 0:
        return []
    archives = list_archives(dest)
    old = archives[:-keep] if len(archives) > keep else []
    for path in old:
        path.unlink(missing_ok=True)
        if progress:
            progress.step(f"rotation: removed {path.name}")
    return old


def list_archives(dest: Path) -> list[Path]:
    found = {p for pattern in ARCHIVE_GLOBS for p in Path(dest).glob(pattern) if p.is_file()}

    def stamp(p: Path) -> str:
        return p.name.split(".tar")[0].rsplit("-", 1)[-1]

    return sorted(found, key=lambda p: (stamp(p), p.name))


def _state_file() -> Path:
    return Path(settings.VAR_DIR) / "ops" / "last_backup.json"


def record_last_backup(path: Path, stamp: datetime, size: int) -> None:
    state = _state_file()
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"path": str(path), "at": stamp.isoformat(), "size": size}))


def last_backup_time() -> float | None:
    """Epoch seconds of the last successful backup (state file, else the newest archive in OPS_BACKUP_DIR)."""
    try:
        return datetime.fromisoformat(json.loads(_state_file().read_text())["at"]).timestamp()
    except (OSError, ValueError, KeyError, TypeError):
        pass
    archives = list_archives(Path(settings.OPS_BACKUP_DIR)) if Path(settings.OPS_BACKUP_DIR).is_dir() else []
    return archives[-1].stat().st_mtime if archives else None


# --- verification -----------------------------------------------------------------------------------------------
@dataclass
class VerifiedArchive:
    manifest: dict
    workdir: Path  # holds the verified members; removed by cleanup()

    def member(self, name: str) -> Path:
        return self.workdir / name

    def cleanup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)


def verify_archive(path: Path, *, passphrase: str | None = None, progress: Progress | None = None,
                   workdir: Path | None = None) -> VerifiedArchive:
    """Decrypt (if needed), read and check every member against the manifest; raise BackupError otherwise."""
    progress = progress or Progress(quiet=True)
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such archive")
    work = Path(tempfile.mkdtemp(prefix="wellsite-verify-", dir=workdir))
    try:
        tar_path = path
        if crypto.is_encrypted(path):
            if not passphrase:
                raise BackupError(f"{path.name} is encrypted: give --passphrase-file (or OPS_BACKUP_PASSPHRASE)")
            progress.step("decrypting the archive")
            tar_path = work / "archive.tar"
            try:
                with open(path, "rb") as src, open(tar_path, "wb") as out:
                    crypto.decrypt_stream(src, out, passphrase)
            except crypto.DecryptionError as exc:
                raise BackupError(f"{path.name}: {exc}")
        manifest = _read_members(tar_path, work, path.name, progress)
        if tar_path != path:
            tar_path.unlink()
        _check_database_member(manifest, work, path.name)
        progress.step(f"{path.name}: archive verified ({len(manifest['files'])} members, checksums match)")
        return VerifiedArchive(manifest, work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _read_members(tar_path: Path, work: Path, label: str, progress: Progress) -> dict:
    try:
        with tarfile.open(tar_path, "r:") as tar:
            members = {m.name: m for m in tar.getmembers()}
            if MANIFEST not in members:
                raise BackupError(f"{label}: not a backup archive (no {MANIFEST})")
            try:
                manifest = json.loads(tar.extractfile(members[MANIFEST]).read())
            except ValueError:
                raise BackupError(f"{label}: the manifest is not valid JSON (damaged or tampered)")
            _check_manifest(manifest, label)
            expected = set(manifest["files"]) | {MANIFEST}
            unexpected = set(members) - expected
            if unexpected:
                raise BackupError(f"{label}: unexpected members {sorted(unexpected)} (tampered)")
            for number, (name, meta) in enumerate(sorted(manifest["files"].items()), 1):
                member = members.get(name)
                if member is None or not member.isfile():
                    raise BackupError(f"{label}: member {name} is missing (truncated or tampered)")
                digest = hashlib.sha256()
                size = 0
                with tar.extractfile(member) as src, open(work / name, "wb") as out:
                    for block in iter(lambda src=src: src.read(1024 * 1024), b""):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
                if size != meta["size"] or digest.hexdigest() != meta["sha256"]:
                    raise BackupError(f"{label}: checksum mismatch for {name} (damaged or tampered)")
                progress.step("verifying checksums", number, len(manifest["files"]))
            return manifest
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"{label}: the archive cannot be read ({exc.__class__.__name__}: {exc}); "
                          "it is truncated or damaged")


def _check_manifest(manifest, label: str) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{label}: not a Wellsite Edge backup (manifest format)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{label}: backup format version {manifest.get('format_version')} is not supported")
    for key, kind in (("engine", str), ("migrations", list), ("tables", dict), ("files", dict)):
        if not isinstance(manifest.get(key), kind):
            raise BackupError(f"{label}: manifest field {key!r} is missing or invalid")
    for name, meta in manifest["files"].items():
        if name not in (PG_MEMBER, SQLITE_MEMBER, MEDIA_MEMBER) or not isinstance(meta, dict):
            raise BackupError(f"{label}: manifest lists an unknown member {name!r}")
        if not isinstance(meta.get("sha256"), str) or not isinstance(meta.get("size"), int):
            raise BackupError(f"{label}: manifest entry of {name} is invalid")


def _check_database_member(manifest: dict, work: Path, label: str) -> None:
    if manifest["engine"] == "sqlite":
        if not (work / SQLITE_MEMBER).exists():
            raise BackupError(f"{label}: the SQLite database is missing")
        path = work / SQLITE_PLAIN
        try:
            with gzip.open(work / SQLITE_MEMBER, "rb") as src, open(path, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
        except (OSError, EOFError) as exc:
            raise BackupError(f"{label}: the SQLite database cannot be decompressed ({exc})")
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                status = db.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{label}: the SQLite database is damaged ({exc})")
        if status != "ok":
            raise BackupError(f"{label}: the SQLite database fails its integrity check ({status})")
        with sqlite_file_connection(path) as copy:
            try:
                actual = fingerprint(copy)
            except Exception as exc:  # noqa: BLE001 - any database error here means a damaged file
                raise BackupError(f"{label}: the SQLite database cannot be read ({exc})")
        expected = manifest["tables"]
        differing = sorted(t for t in set(actual) | set(expected) if actual.get(t) != expected.get(t))
        if differing:
            raise BackupError(f"{label}: the database content does not match the manifest for "
                              f"{', '.join(differing[:5])} (tampered)")
    elif manifest["engine"] == "postgresql":
        path = work / PG_MEMBER
        if not path.exists():
            raise BackupError(f"{label}: the PostgreSQL dump is missing")
        try:
            proc = subprocess.run([pg_binary("pg_restore"), "--list", str(path)], capture_output=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise BackupError(f"{label}: pg_restore --list timed out")
        if proc.returncode != 0:
            raise BackupError(f"{label}: the PostgreSQL dump cannot be read: "
                              f"{proc.stderr.decode('utf-8', 'replace').strip()[:300]}")
    else:
        raise BackupError(f"{label}: unknown engine {manifest['engine']!r}")


# --- restore ----------------------------------------------------------------------------------------------------
def check_compatible(manifest: dict) -> None:
    engine = engine_of()
    if manifest["engine"] != engine:
        raise BackupError(f"this archive is a {manifest['engine']} backup and the configured database is {engine}: "
                          "restore it on a box with the same database engine")
    unknown = sorted(set(manifest["migrations"]) - known_migrations())
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise BackupError(f"this archive comes from a newer schema (product {manifest.get('product_version')}): "
                          f"migrations unknown to this version: {shown}. Update the product first.")


def database_is_empty() -> bool:
    return not user_tables()


def restore_archive(verified: VerifiedArchive, *, wipe: bool, progress: Progress | None = None) -> dict:
    """Restore a verified archive into the configured database; returns {table: (expected, actual)} mismatches."""
    progress = progress or Progress(quiet=True)
    manifest = verified.manifest
    check_compatible(manifest)
    if not database_is_empty() and not wipe:
        raise BackupError("the database is not empty: restore refuses to overwrite it without --force")
    if manifest["engine"] == "postgresql":
        _restore_postgresql(verified.member(PG_MEMBER), manifest, progress, wipe)
    else:
        _restore_sqlite(verified.member(SQLITE_PLAIN), progress)
    if MEDIA_MEMBER in manifest["files"]:
        _restore_media(verified.member(MEDIA_MEMBER), progress)
    connections.close_all()
    log.info("restore of the %s backup of %s finished; comparing with the manifest", manifest["engine"],
             manifest.get("created_at"))
    actual = fingerprint(progress=progress)
    mismatches = {}
    for table in sorted(set(actual) | set(manifest["tables"])):
        want, got = manifest["tables"].get(table), actual.get(table)
        if want != got:
            mismatches[table] = (want, got)
    return mismatches


def _restore_postgresql(dump: Path, manifest: dict, progress: Progress, wipe: bool) -> None:
    connections.close_all()
    env = pg_env()
    prefix = ""
    if wipe:
        prefix += "DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"
    suffix = ""
    if manifest.get("timescaledb"):
        # Timescale's documented restore procedure around pg_restore (written from its documentation).
        prefix += "CREATE EXTENSION IF NOT EXISTS timescaledb;\nSELECT timescaledb_pre_restore();\n"
        suffix = "SELECT timescaledb_post_restore();\n"
    # Before the single transaction commits, every table must match the manifest (count and checksum): a manifest
    # that does not describe the dump (tampered) aborts the whole restore, the wipe included.
    prefix = "SET TIME ZONE 'UTC';\n" + prefix
    suffix += _pg_manifest_checks(manifest)
    # pg_restore renders SQL (with COPY data) into psql running ONE transaction that starts with the wipe: any
    # error rolls everything back, the wipe included.
    restore = subprocess.Popen(
        [pg_binary("pg_restore"), "--no-owner", "--no-privileges", "--verbose", "--file=-", str(dump)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    psql = subprocess.Popen(
        [pg_binary("psql"), "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1",
         "--file=-"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    restore_lines: list[str] = []
    psql_lines: list[str] = []
    tables = max(len(manifest["tables"]), 1)
    done = [0]

    def on_line(line):
        if "processing data for table" in line:
            done[0] += 1
            progress.step("restoring the database", min(done[0], tables), tables)

    readers = [threading.Thread(target=_drain, args=(restore.stderr, restore_lines, on_line), daemon=True),
               threading.Thread(target=_drain, args=(psql.stderr, psql_lines), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        psql.stdin.write(prefix.encode())
        for block in iter(lambda: restore.stdout.read(1024 * 1024), b""):
            psql.stdin.write(block)
        restore_code = restore.wait()
        if restore_code != 0:
            # Make psql's transaction fail so nothing is committed.
            psql.stdin.write(b"\n\\echo 'pg_restore failed'\nSELECT 1/0;\n")
        else:
            psql.stdin.write(suffix.encode())
        psql.stdin.close()
    except BrokenPipeError:
        restore.kill()
        restore_code = restore.wait()
    psql_code = psql.wait()
    for reader in readers:
        reader.join()
    if restore_code != 0 or psql_code != 0:
        detail = [line for line in psql_lines + restore_lines if "ERROR" in line or "error" in line][-3:]
        raise BackupError("the restore failed and was rolled back: " + ("; ".join(detail) or "see the server log"))
    progress.step("restoring the database", 1, 1)


_SAFE_TABLE = re.compile(r"^[A-Za-z0-9_]+$")
_PG_CHECKSUM = re.compile(r"^([0-9a-f]+)-([0-9a-f]+)$")


def _pg_manifest_checks(manifest: dict) -> str:
    lines = []
    for table, meta in sorted(manifest["tables"].items()):
        match = _PG_CHECKSUM.match(str(meta.get("checksum", "")))
        if not _SAFE_TABLE.match(table) or not match or not isinstance(meta.get("rows"), int):
            raise BackupError(f"the manifest entry of table {table!r} is invalid (tampered)")
        expected = f"{meta['rows']}:{int(match.group(1), 16)}:{int(match.group(2), 16)}"
        lines.append(
            "DO $$ BEGIN IF (SELECT count(*)::text || ':' || "  # noqa: S608 - names and values validated above
            "coalesce(sum(('x' || substr(h, 1, 15))::bit(60)::bigint), 0)::text || ':' || "
            "coalesce(sum(('x' || substr(h, 16, 15))::bit(60)::bigint), 0)::text "
            f'FROM (SELECT md5(t::text) AS h FROM public."{table}" t) s) <> \'{expected}\' THEN '
            f"RAISE EXCEPTION 'table {table} does not match the manifest'; END IF; END $$;"
        )
    return "\n".join(lines) + "\n"


def _restore_sqlite(source: Path, progress: Progress) -> None:
    target = connection.settings_dict["NAME"]
    connections.close_all()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target), timeout=30)
    try:
        # The backup API replaces the live database's pages in one write transaction: atomic for its readers.
        src.backup(dst, pages=256, progress=lambda status, remaining, total: progress.step(
            "restoring the database", total - remaining, total))
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()
    progress.step("restoring the database", 1, 1)


def _restore_media(media_tar: Path, progress: Progress) -> None:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(media_tar, "r:") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        for number, member in enumerate(members, 1):
            tar.extract(member, root, filter="data")  # "data" refuses absolute paths, .. and links outside
            progress.step("restoring media", number, len(members))


def describe(manifest: dict) -> str:
    out = io.StringIO()
    out.write(f"format {manifest['format']} v{manifest['format_version']}, product {manifest.get('product_version')}, "
              f"engine {manifest['engine']}, created {manifest.get('created_at')}, edge {manifest.get('edge_id')}\n")
    rows = sum(t["rows"] for t in manifest["tables"].values())
    out.write(f"{len(manifest['migrations'])} migrations, {len(manifest['tables'])} tables, {rows} rows\n")
    return out.getvalue()

