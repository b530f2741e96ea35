"""Shared fixtures of the operations tests: one migrated embedded (SQLite) box, copied for each test that needs one
(migrating a fresh box per test would cost seconds each)."""

from __future__ import annotations

import shutil

import pytest

from tests.ops.helpers import MAKE_DATA, manage


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """VAR_DIR of a migrated SQLite box with a field FX and 25 sites (do not modify: copy it)."""
    base = tmp_path_factory.mktemp("sqlite-template")
    env = {"VAR_DIR": str(base / "var"), "MEDIA_ROOT": str(base / "media")}
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", MAKE_DATA)
    return base / "var"


@pytest.fixture
def sqlite_var(sqlite_template, tmp_path):
    """A private copy of the template box's VAR_DIR."""
    target = tmp_path / "var"
    shutil.copytree(sqlite_template, target)
    return target
