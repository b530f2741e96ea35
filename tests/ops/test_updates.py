"""Signed updates: refused when unsigned, tampered, signed by another key or older; applied with backup, migrate
and release switch; rolled back (database and release link) when a migration of the new release fails."""

from __future__ import annotations

import io
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pytest

from apps.ops import updates
from apps.ops.updates import UpdateError
from tests.ops.helpers import manage

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", "*.pyc", "tests", "bench", "node_modules",
                                ".pytest_cache", "*.sqlite3", "backups", "secrets")

MARKER_MIGRATION = '''from django.db import migrations


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunSQL("CREATE TABLE ops_update_marker (id integer)", "DROP TABLE ops_update_marker")]
'''
FAILING_MIGRATION = '''from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_marker")]
    operations = [migrations.RunSQL("INSERT INTO table_that_does_not_exist VALUES (1)")]
'''


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("keys")
    private, public = updates.generate_keys(base / "release")
    other_private, _ = updates.generate_keys(base / "other")
    return {"private": private, "public": public.read_text(), "other_private": other_private}


def release_tree(base: Path, version: str, *, failing: bool = False) -> Path:
    source = base / f"src-{version}-{'bad' if failing else 'ok'}"
    shutil.copytree(ROOT, source, ignore=IGNORE, symlinks=False)
    init = source / "erp" / "__init__.py"
    init.write_text(init.read_text().replace(f'__version__ = "{updates.source_version(ROOT)}"',
                                             f'__version__ = "{version}"'))
    migrations = source / "apps" / "ops" / "migrations"
    migrations.mkdir(exist_ok=True)
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_marker.py").write_text(MARKER_MIGRATION)
    if failing:
        (migrations / "0002_boom.py").write_text(FAILING_MIGRATION)
    return source


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, keys):
    base = tmp_path_factory.mktemp("bundles")
    good = updates.make_bundle(release_tree(base, "0.2.0"), keys["private"], base / "good")
    bad = updates.make_bundle(release_tree(base, "0.2.0", failing=True), keys["private"], base / "bad")
    return {"base": base, "good": good, "bad": bad}


def rewrite(bundle: Path, target: Path, *, drop: str | None = None, replace: dict | None = None) -> Path:
    with tarfile.open(bundle) as src, tarfile.open(target, "w") as dst:
        for member in src.getmembers():
            if member.name == drop:
                continue
            data = (replace or {}).get(member.name) or src.extractfile(member).read()
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return target


def test_valid_bundle_reads(bundles, keys):
    bundle = updates.read_bundle(bundles["good"], keys["public"])
    assert bundle.version == "0.2.0"
    with tarfile.open(fileobj=io.BytesIO(bundle.payload), mode="r:gz") as tar:
        names = tar.getnames()
    assert "manage.py" in names and "apps/ops/migrations/0001_marker.py" in names
    assert not any(name.split("/")[0] in (".venv", "var", ".git", "tests") for name in names)


def test_tampered_unsigned_and_foreign_bundles_are_refused(bundles, keys, tmp_path):
    with tarfile.open(bundles["good"]) as tar:
        payload = bytearray(tar.extractfile("payload.tar.gz").read())
        manifest = tar.extractfile("bundle.json").read()
    payload[len(payload) // 2] ^= 0x01
    tampered_payload = rewrite(bundles["good"], tmp_path / "p.tar", replace={"payload.tar.gz": bytes(payload)})
    with pytest.raises(UpdateError, match="tampered"):
        updates.read_bundle(tampered_payload, keys["public"])

    forged_manifest = manifest.replace(b'"version": "0.2.0"', b'"version": "9.9.9"')
    tampered_manifest = rewrite(bundles["good"], tmp_path / "m.tar", replace={"bundle.json": forged_manifest})
    with pytest.raises(UpdateError, match="signature does not match"):
        updates.read_bundle(tampered_manifest, keys["public"])

    unsigned = rewrite(bundles["good"], tmp_path / "u.tar", drop="bundle.sig")
    with pytest.raises(UpdateError, match="not signed"):
        updates.read_bundle(unsigned, keys["public"])

    foreign = updates.make_bundle(release_tree(tmp_path, "0.2.0"), keys["other_private"], tmp_path / "foreign")
    with pytest.raises(UpdateError, match="signature does not match"):
        updates.read_bundle(foreign, keys["public"])

    with pytest.raises(UpdateError, match="no release public key"):
        updates.read_bundle(bundles["good"], "")

    truncated = tmp_path / "t.tar"
    truncated.write_bytes(bundles["good"].read_bytes()[:5000])
    with pytest.raises(UpdateError):
        updates.read_bundle(truncated, keys["public"])


def test_older_or_same_version_refused(bundles, keys, tmp_path, settings):
    older = updates.read_bundle(updates.make_bundle(release_tree(tmp_path, "0.0.9"), keys["private"], tmp_path),
                                keys["public"])
    with pytest.raises(UpdateError, match="older"):
        updates.check_installable(older)
    settings.VERSION = "0.2.0"
    same = updates.read_bundle(bundles["good"], keys["public"])
    with pytest.raises(UpdateError, match="already running"):
        updates.check_installable(same)
    updates.check_installable(same, allow_same_version=True)
    settings.VERSION = "0.1.0"
    updates.check_installable(same)


def test_public_key_formats(keys):
    from cryptography.hazmat.primitives import serialization

    pem = keys["public"]
    key = updates.load_public_key(pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    import base64

    assert updates.load_public_key(base64.b64encode(raw).decode()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw
    assert updates.load_public_key(pem.replace("\n", "\\n"))  # one line in .env
    with pytest.raises(UpdateError):
        updates.load_public_key("not a key")


# --- end to end on an embedded (SQLite) box ----------------------------------------------------------------------
@pytest.fixture
def box(sqlite_var, tmp_path, keys):
    env = {"VAR_DIR": str(sqlite_var), "MEDIA_ROOT": str(tmp_path / "media"), "OPS_UPDATE_PUBLIC_KEY": keys["public"]}
    return {"env": env, "var": sqlite_var}


def tables(var: Path) -> set[str]:
    db = sqlite3.connect(var / "wellsite.sqlite3")
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def query(var: Path, sql: str):
    db = sqlite3.connect(var / "wellsite.sqlite3")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_update_applies_backup_migrate_switch(box, bundles):
    result = manage(box["env"], "apply_update", str(bundles["good"]))
    assert "updated to 0.2.0" in result.stdout
    for step in ("signature valid", "backup taken", "migrations applied", "checks passed", "complete"):
        assert step in result.stdout, step
    assert "ops_update_marker" in tables(box["var"])
    current = box["var"] / "current"
    assert current.is_symlink() and current.resolve() == (box["var"] / "releases" / "0.2.0").resolve()
    assert list((box["var"] / "backups").glob("wellsite-backup-*.tar"))
    audited = query(box["var"], "SELECT message FROM core_auditevent WHERE object_type = 'ops.update'")
    assert any("complete" in row[0] for row in audited)


def test_failing_migration_rolls_back(box, bundles):
    before = query(box["var"], "SELECT code FROM wells_field ORDER BY code")
    failed = manage(box["env"], "apply_update", str(bundles["bad"]), check=False)
    assert failed.returncode != 0
    assert "rolled back" in failed.stderr and "table_that_does_not_exist" in failed.stderr
    # The first migration of the new release had been applied: the restore removed it again.
    assert "ops_update_marker" not in tables(box["var"])
    assert query(box["var"], "SELECT code FROM wells_field ORDER BY code") == before
    assert not (box["var"] / "current").exists() and not (box["var"] / "releases" / "0.2.0").exists()
    audited = [row[0] for row in query(box["var"], "SELECT message FROM core_auditevent "
                                                   "WHERE object_type = 'ops.update' ORDER BY at")]
    assert any("rolled back" in message for message in audited)


def test_tampered_bundle_changes_nothing(box, bundles, tmp_path):
    with tarfile.open(bundles["good"]) as tar:
        payload = bytearray(tar.extractfile("payload.tar.gz").read())
    payload[-100] ^= 0x01
    tampered = rewrite(bundles["good"], tmp_path / "tampered.tar", replace={"payload.tar.gz": bytes(payload)})
    before = tables(box["var"])
    failed = manage(box["env"], "apply_update", str(tampered), check=False)
    assert failed.returncode != 0 and "tampered" in failed.stderr
    assert tables(box["var"]) == before
    assert not (box["var"] / "backups").exists() and not (box["var"] / "releases").exists()
