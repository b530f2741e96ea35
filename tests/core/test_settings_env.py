"""Typed settings helpers and the production refusal rules (run in subprocesses with a clean environment)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from erp import env

ROOT = Path(__file__).resolve().parents[2]


def test_bool_int_list_and_choices(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", " 42 ")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env.env_bool("X_BOOL") is True
    assert env.env_int("X_INT", 1) == 42
    assert env.env_list("X_LIST") == ["a", "b", "c"]
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL='maybe' is not a boolean"):
        env.env_bool("X_BOOL")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_INT='ten' is not an integer"):
        env.env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum 1"):
        env.env_int("X_INT", 5, minimum=1)
    monkeypatch.setenv("X_CHOICE", "cloud")
    with pytest.raises(ImproperlyConfigured, match="not one of edge, hub"):
        env.env_str("X_CHOICE", "edge", choices=("edge", "hub"))


def test_file_variant_for_secrets(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_str("X_SECRET") == "s3cret-from-file"
    monkeypatch.setenv("X_SECRET", "inline")
    with pytest.raises(ImproperlyConfigured, match="either X_SECRET or X_SECRET_FILE"):
        env.env_str("X_SECRET")
    monkeypatch.delenv("X_SECRET")
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env.env_str("X_SECRET")


def test_url_scheme_is_checked(monkeypatch):
    monkeypatch.setenv("X_URL", "http://example")
    with pytest.raises(ImproperlyConfigured, match="must start with one of redis://"):
        env.env_url("X_URL", schemes=("redis",))


def _load_settings(extra: dict) -> subprocess.CompletedProcess:
    dropped = ("DJANGO", "DEBUG", "SECRET", "ALLOWED", "PYTEST")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    clean.update({"VAR_DIR": "/tmp/wellsite-settings-test", "TESTING": "0"})
    clean.update(extra)
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='erp.settings'; django.setup(); print('started')"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_production_refuses_to_start_without_a_real_secret_key():
    result = _load_settings({"DEBUG": "0", "ALLOWED_HOSTS": "edge.local"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    short = _load_settings({"DEBUG": "0", "ALLOWED_HOSTS": "edge.local", "SECRET_KEY": "short"})
    assert "SECRET_KEY must be set" in short.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _load_settings({"DEBUG": "0", "SECRET_KEY": "k" * 50})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list" in result.stderr


def test_production_starts_with_both_and_rejects_a_bad_time_zone():
    ok = _load_settings({"DEBUG": "0", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "edge.local"})
    assert ok.returncode == 0, ok.stderr
    bad = _load_settings({"DEBUG": "0", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "edge.local",
                          "TIME_ZONE": "Mars/Olympus"})
    assert "TIME_ZONE='Mars/Olympus' is not a known IANA time zone" in bad.stderr


def test_sqlite_default_uses_wal(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='erp.settings'; django.setup();"
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(c.fetchone()[0])"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE_URL", "PYTEST"))}
    clean.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "TESTING": "0"})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.stdout.strip() == "wal", result.stderr
    assert (tmp_path / "wellsite.sqlite3").exists()
