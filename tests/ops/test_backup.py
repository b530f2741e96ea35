"""Backup, verify_backup and restore: round trips on SQLite and PostgreSQL, tampering, refusals, rotation."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.ops import backup, crypto
from apps.ops.backup import BackupError, Progress, verify_archive
from tests.ops.helpers import manage

FINGERPRINT = "import json; from apps.ops.backup import fingerprint; print('FP=' + json.dumps(fingerprint()))"
def fingerprint_of(env: dict) -> dict:
    out = manage(env, "shell", "-c", FINGERPRINT).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("FP="))[3:])


def assert_same_content(manifest_tables: dict, restored: dict):
    """Identical row counts and checksums, except the audit row of the restore itself (and its outbox event, when
    audit rows are synced): those tables gained exactly one row."""
    assert set(manifest_tables) == set(restored)
    differing = {table for table, meta in manifest_tables.items() if restored[table] != meta}
    assert differing <= {"core_auditevent", "sync_outboxevent"}, differing
    assert "core_auditevent" in differing
    for table in differing:
        assert restored[table]["rows"] == manifest_tables[table]["rows"] + 1, table
    assert sum(1 for meta in manifest_tables.values() if meta["rows"]) >= 5  # the comparison covers real data


# --- SQLite (the embedded box) ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sqlite_box(tmp_path_factory, sqlite_template):
    """A migrated SQLite box with data and media, and an encrypted backup of it."""
    base = tmp_path_factory.mktemp("sqlitebox")
    env = {"VAR_DIR": str(base / "var"), "MEDIA_ROOT": str(base / "media")}
    shutil.copytree(sqlite_template, base / "var")
    (base / "media" / "reports").mkdir(parents=True)
    (base / "media" / "reports" / "ddr.pdf").write_bytes(b"%PDF-1.4 daily drilling report" * 100)
    passfile = base / "pass.txt"
    passfile.write_text("correct horse battery staple\n")
    out = manage(env, "backup", "--dest", str(base / "usb"), "--passphrase-file", str(passfile)).stdout
    archives = sorted((base / "usb").glob("wellsite-backup-*.tar.enc"))
    assert len(archives) == 1
    return {"base": base, "env": env, "archive": archives[0], "passfile": passfile, "backup_output": out}


def test_sqlite_round_trip_identical(sqlite_box, tmp_path, db):
    archive, passfile = sqlite_box["archive"], sqlite_box["passfile"]
    assert "backup written" in sqlite_box["backup_output"]
    assert "dumping" not in sqlite_box["backup_output"]  # SQLite path: online backup API, not pg_dump
    assert "copying the database: 100%" in sqlite_box["backup_output"]  # plain progress lines when not a terminal
    before = fingerprint_of(sqlite_box["env"])
    assert before["wells_site"]["rows"] == 25

    target = {"VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media")}
    result = manage(target, "restore", str(archive), "--passphrase-file", str(passfile))
    assert "restore complete" in result.stdout
    assert "wells_site" in result.stdout and " 25 " in result.stdout  # the comparison table
    after = fingerprint_of(target)
    manifest = verify_archive(archive, passphrase=passfile.read_text().strip())
    try:
        assert_same_content(manifest.manifest["tables"], before)  # the backup's own audit row came after
        assert_same_content(manifest.manifest["tables"], after)
    finally:
        manifest.cleanup()
    assert (tmp_path / "media" / "reports" / "ddr.pdf").read_bytes() == b"%PDF-1.4 daily drilling report" * 100


def test_sqlite_restore_refuses_non_empty_then_force_wipes(sqlite_box, tmp_path):
    archive, passfile = sqlite_box["archive"], sqlite_box["passfile"]
    target = {"VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media")}
    (tmp_path / "var").mkdir()
    live = sqlite3.connect(tmp_path / "var" / "wellsite.sqlite3")
    live.execute("CREATE TABLE keepme (id integer)")
    live.execute("INSERT INTO keepme VALUES (7)")
    live.commit()
    live.close()
    refused = manage(target, "restore", str(archive), "--passphrase-file", str(passfile), check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr and "--force" in refused.stderr
    live = sqlite3.connect(tmp_path / "var" / "wellsite.sqlite3")
    assert live.execute("SELECT id FROM keepme").fetchall() == [(7,)]  # untouched
    live.close()
    manage(target, "restore", str(archive), "--passphrase-file", str(passfile), "--force")
    live = sqlite3.connect(tmp_path / "var" / "wellsite.sqlite3")
    try:
        assert live.execute("SELECT code FROM wells_field").fetchall() == [("FX",)]
        assert live.execute("SELECT name FROM sqlite_master WHERE name = 'keepme'").fetchall() == []  # wiped
    finally:
        live.close()


def test_encrypted_archive_wrong_or_missing_passphrase(sqlite_box):
    with pytest.raises(BackupError, match="wrong passphrase"):
        verify_archive(sqlite_box["archive"], passphrase="not the passphrase")
    with pytest.raises(BackupError, match="encrypted"):
        verify_archive(sqlite_box["archive"], passphrase=None)


def test_encrypted_archive_truncated_or_tampered(sqlite_box, tmp_path):
    data = sqlite_box["archive"].read_bytes()
    passphrase = sqlite_box["passfile"].read_text().strip()
    truncated = tmp_path / "t.tar.enc"
    truncated.write_bytes(data[: len(data) - 100])
    with pytest.raises(BackupError, match="truncated|tampered"):
        verify_archive(truncated, passphrase=passphrase)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    tampered = tmp_path / "x.tar.enc"
    tampered.write_bytes(bytes(flipped))
    with pytest.raises(BackupError, match="tampered"):
        verify_archive(tampered, passphrase=passphrase)
    appended = tmp_path / "a.tar.enc"
    appended.write_bytes(data + b"extra")
    with pytest.raises(BackupError, match="tampered"):
        verify_archive(appended, passphrase=passphrase)


def test_sqlite_archive_refused_on_postgresql(sqlite_box, db):
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database")
    with pytest.raises(CommandError, match="sqlite backup and the configured database is postgresql"):
        call_command("restore", str(sqlite_box["archive"]), passphrase_file=str(sqlite_box["passfile"]), force=True,
                     stdout=io.StringIO())


# --- PostgreSQL ---------------------------------------------------------------------------------------------------
def _make_world():
    from apps.wells.models import Field, Site

    field = Field.objects.create(code="PG1", name="Permian \u00e9")
    for i in range(30):
        Site.objects.create(field=field, code=f"P{i}", name=f"Pad {i}", latitude="31.5", longitude="-102.25")


def _pg_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{name}"


@pytest.fixture
def scratch_pg_database():
    name = f"ops_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres_only
def test_postgresql_round_trip_identical(transactional_db, scratch_pg_database, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.VAR_DIR = tmp_path / "var"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "permit.txt").write_text("work permit 42")
    _make_world()
    out = io.StringIO()
    call_command("backup", dest=str(tmp_path / "nas"), stdout=out)
    assert "dumping the database: 100%" in out.getvalue()
    archive = next((tmp_path / "nas").glob("wellsite-backup-*.tar"))
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["database.pgdump", "manifest.json", "media.tar"]
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["engine"] == "postgresql" and manifest["tables"]["wells_site"]["rows"] == 30
    assert "wells.0001_initial" in manifest["migrations"]
    assert manifest["product_version"] == settings.VERSION

    target = {"DATABASE_URL": _pg_url(scratch_pg_database), "VAR_DIR": str(tmp_path / "var2"),
              "MEDIA_ROOT": str(tmp_path / "media2"), "OPS_PG_BIN_DIR": settings.OPS_PG_BIN_DIR}
    result = manage(target, "restore", str(archive))
    assert "restore complete" in result.stdout
    assert_same_content(manifest["tables"], fingerprint_of(target))
    assert (tmp_path / "media2" / "permit.txt").read_text() == "work permit 42"
    # The last backup time feeds the backup age metric.
    assert backup.last_backup_time() is not None


@pytest.mark.postgres_only
def test_postgresql_failed_restore_rolls_back_the_wipe(transactional_db, scratch_pg_database, tmp_path, settings):
    """A restore that fails half way (after the forced wipe and some tables) leaves the target exactly as it was."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = str(tmp_path / "none")
    _make_world()
    call_command("backup", dest=str(tmp_path / "nas"), stdout=io.StringIO())
    archive = next((tmp_path / "nas").glob("wellsite-backup-*.tar"))
    target = {"DATABASE_URL": _pg_url(scratch_pg_database), "VAR_DIR": str(tmp_path / "var2")}
    with psycopg.connect(_pg_url(scratch_pg_database), autocommit=True) as conn:
        conn.execute("CREATE TABLE keepme (id int)")
        conn.execute("INSERT INTO keepme VALUES (7)")
        # Simulate a failure in the middle of the restore (say, the disk fills up): an event trigger outside the
        # public schema raises when the restore creates the wells_site table.
        conn.execute("CREATE SCHEMA guard")
        conn.execute(
            "CREATE FUNCTION guard.stop() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'public.wells_site') "
            "THEN RAISE EXCEPTION 'simulated failure: disk full'; END IF; END $$"
        )
        conn.execute("CREATE EVENT TRIGGER stop_restore ON ddl_command_end EXECUTE FUNCTION guard.stop()")
    failed = manage(target, "restore", str(archive), "--force", check=False)
    assert failed.returncode != 0
    assert "rolled back" in failed.stderr and "simulated failure" in failed.stderr
    with psycopg.connect(_pg_url(scratch_pg_database)) as conn:
        assert conn.execute("SELECT id FROM public.keepme").fetchall() == [(7,)]
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
        assert tables == 1  # the wipe and the tables restored before the failure were all rolled back


@pytest.mark.postgres_only
def test_tampered_archives_are_refused_and_change_nothing(transactional_db, tmp_path, settings):
    from apps.wells.models import Field

    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = str(tmp_path / "none")
    _make_world()
    call_command("backup", dest=str(tmp_path / "nas"), stdout=io.StringIO())
    archive = next((tmp_path / "nas").glob("wellsite-backup-*.tar"))
    data = archive.read_bytes()
    Field.objects.create(code="AFTER", name="created after the backup")

    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(BackupError, match="truncated|missing"):
        verify_archive(truncated)

    # Flip one byte inside the database dump.
    with tarfile.open(archive) as tar:
        offset = tar.getmember("database.pgdump").offset_data
    flipped = bytearray(data)
    flipped[offset + 200] ^= 0xFF
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(bytes(flipped))
    with pytest.raises(BackupError, match="checksum mismatch for database.pgdump"):
        verify_archive(tampered)

    # A manifest edited to hide a change is caught by the member checksums it no longer matches... and a forged
    # member with a forged checksum still has to be a readable dump.
    forged = tmp_path / "forged.tar"
    with tarfile.open(archive) as src, tarfile.open(forged, "w") as dst:
        manifest = json.loads(src.extractfile("manifest.json").read())
        junk = b"PGDMP" + b"\x00" * 500
        manifest["files"]["database.pgdump"] = {"sha256": __import__("hashlib").sha256(junk).hexdigest(),
                                                "size": len(junk)}
        for name, payload in (("manifest.json", json.dumps(manifest).encode()), ("database.pgdump", junk)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            dst.addfile(info, io.BytesIO(payload))
    with pytest.raises(BackupError, match="cannot be read"):
        verify_archive(forged)

    for bad in (truncated, tampered, forged):
        with pytest.raises(CommandError, match="Nothing was changed"):
            call_command("restore", str(bad), force=True, stdout=io.StringIO())
    assert Field.objects.filter(code="AFTER").exists()  # nothing was restored over the live data

    verify_out = io.StringIO()
    call_command("verify_backup", str(archive), stdout=verify_out)
    assert "OK" in verify_out.getvalue()


@pytest.mark.postgres_only
def test_newer_schema_refused(transactional_db, tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = str(tmp_path / "none")
    call_command("backup", dest=str(tmp_path / "nas"), stdout=io.StringIO())
    archive = next((tmp_path / "nas").glob("wellsite-backup-*.tar"))
    newer = tmp_path / "newer.tar"
    with tarfile.open(archive) as src, tarfile.open(newer, "w") as dst:
        for member in src.getmembers():
            payload = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(payload)
                manifest["migrations"].append("wells.9999_from_the_future")
                payload = json.dumps(manifest).encode()
            info = tarfile.TarInfo(member.name)
            info.size = len(payload)
            dst.addfile(info, io.BytesIO(payload))
    with pytest.raises(CommandError, match="newer schema.*wells.9999_from_the_future"):
        call_command("restore", str(newer), force=True, stdout=io.StringIO())


# --- units ----------------------------------------------------------------------------------------------------------
def test_rotation_keeps_the_newest(tmp_path):
    names = [f"wellsite-backup-edge-01-202611{day:02d}T020000Z.tar" for day in range(1, 8)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "unrelated.tar").write_bytes(b"x")
    removed = backup.rotate(tmp_path, keep=3)
    assert sorted(p.name for p in removed) == names[:4]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[4:] + ["unrelated.tar"])


def test_progress_bar_on_terminal_and_lines_otherwise():
    tty, plain = io.StringIO(), io.StringIO()
    for stream, is_tty in ((tty, True), (plain, False)):
        progress = Progress(stream, tty=is_tty)
        for done in range(0, 101, 5):
            progress.step("copying", done, 100)
    assert "\r" in tty.getvalue() and "[#########################] 100%" in tty.getvalue()
    assert plain.getvalue().splitlines() == [f"copying: {pct}%" for pct in range(0, 101, 10)]


def test_crypto_round_trip_and_chunk_reordering(tmp_path):
    payload = os.urandom(crypto.CHUNK * 2 + 123)
    enc = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(payload), enc, "pass phrase")
    out = io.BytesIO()
    crypto.decrypt_stream(io.BytesIO(enc.getvalue()), out, "pass phrase")
    assert out.getvalue() == payload
    # Dropping the last chunk (a truncation exactly on a chunk boundary) is detected.
    raw = enc.getvalue()
    header_len = len(crypto.MAGIC) + 27
    first_len = int.from_bytes(raw[header_len : header_len + 4], "big")
    second_end = header_len + 5 + first_len
    second_len = int.from_bytes(raw[second_end : second_end + 4], "big")
    cut = raw[: second_end + 5 + second_len]
    with pytest.raises(crypto.DecryptionError, match="truncated"):
        crypto.decrypt_stream(io.BytesIO(cut), io.BytesIO(), "pass phrase")


def test_settings_schedule_daily_backup():
    entry = settings.CELERY_BEAT_SCHEDULE.get("ops-daily-backup")
    if entry is None:
        pytest.skip("OPS_BACKUP_SCHEDULE=0 in this environment")
    assert entry["task"] == "apps.ops.tasks.daily_backup"


@pytest.mark.postgres_only
def test_daily_backup_task_writes_an_archive(transactional_db, tmp_path, settings):
    from apps.ops.tasks import daily_backup

    settings.OPS_BACKUP_DIR = tmp_path / "usb"
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = str(tmp_path / "none")
    daily_backup.apply()
    [archive] = list((tmp_path / "usb").glob("wellsite-backup-*.tar"))
    verified = verify_archive(archive)
    verified.cleanup()


def _edit_manifest(archive: Path, target: Path, edit) -> Path:
    with tarfile.open(archive) as src, tarfile.open(target, "w") as dst:
        for member in src.getmembers():
            payload = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(payload)
                edit(manifest)
                payload = json.dumps(manifest).encode()
            info = tarfile.TarInfo(member.name)
            info.size = len(payload)
            dst.addfile(info, io.BytesIO(payload))
    return target


def test_sqlite_manifest_that_lies_is_refused_at_verification(sqlite_box, tmp_path, db):
    passphrase = sqlite_box["passfile"].read_text().strip()
    plain = tmp_path / "plain.tar"
    with open(sqlite_box["archive"], "rb") as src, open(plain, "wb") as out:
        crypto.decrypt_stream(src, out, passphrase)
    lying = _edit_manifest(plain, tmp_path / "lying.tar",
                           lambda m: m["tables"]["wells_site"].update(rows=m["tables"]["wells_site"]["rows"] + 1))
    with pytest.raises(BackupError, match="does not match the manifest for wells_site"):
        verify_archive(lying)


@pytest.mark.postgres_only
def test_postgresql_manifest_that_lies_aborts_the_restore(transactional_db, scratch_pg_database, tmp_path, settings):
    """The counts and checksums are checked inside the restore transaction: a manifest that does not describe the
    dump rolls everything back, the forced wipe included."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = str(tmp_path / "none")
    _make_world()
    call_command("backup", dest=str(tmp_path / "nas"), stdout=io.StringIO())
    archive = next((tmp_path / "nas").glob("wellsite-backup-*.tar"))
    lying = _edit_manifest(archive, tmp_path / "lying.tar",
                           lambda m: m["tables"]["wells_site"].update(rows=m["tables"]["wells_site"]["rows"] - 1))
    with psycopg.connect(_pg_url(scratch_pg_database), autocommit=True) as conn:
        conn.execute("CREATE TABLE keepme (id int)")
        conn.execute("INSERT INTO keepme VALUES (7)")
    target = {"DATABASE_URL": _pg_url(scratch_pg_database), "VAR_DIR": str(tmp_path / "var2")}
    failed = manage(target, "restore", str(lying), "--force", check=False)
    assert failed.returncode != 0
    assert "wells_site does not match the manifest" in failed.stderr and "rolled back" in failed.stderr
    with psycopg.connect(_pg_url(scratch_pg_database)) as conn:
        assert conn.execute("SELECT id FROM public.keepme").fetchall() == [(7,)]
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 1
