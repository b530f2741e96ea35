#!/usr/bin/env bash
# `make test`: lint, Django checks, migrations check, the suite on a real PostgreSQL, then the SQLite pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1
unset DJANGO_SETTINGS_MODULE
PY=.venv/bin/python

echo "== ruff"
.venv/bin/ruff check .
echo "== manage.py check (production settings)"
SECRET_KEY="check-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" ALLOWED_HOSTS=localhost DEBUG=0 \
  VAR_DIR="$(mktemp -d)" $PY manage.py check --fail-level WARNING
echo "== makemigrations --check"
DEBUG=1 VAR_DIR="$(mktemp -d)" $PY manage.py makemigrations --check --dry-run
echo "== pytest (PostgreSQL)"
# Two workers (pytest-xdist): most of the suite waits on real servers and child processes, so two run well on two
# cores. Each worker is its own session with its own PostgreSQL/Redis/Mosquitto (tests/conftest.py).
# PYTEST_WORKERS=0 runs in one process.
$PY -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
echo "== pytest (SQLite pass: the embedded default)"
WELLSITE_TEST_DB=sqlite $PY -m pytest tests/core tests/accounts -m "not postgres_only" -p no:randomly
