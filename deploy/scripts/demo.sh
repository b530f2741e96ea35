#!/usr/bin/env bash
# `make demo`: an embedded box with no external server (SQLite in WAL mode, in-memory channel layer).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var
if [ ! -s var/secret_key ]; then
  .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
  chmod 600 var/secret_key
fi
export SECRET_KEY_FILE="$PWD/var/secret_key"
export DEBUG="${DEBUG:-0}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}"
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
PY=.venv/bin/python

$PY manage.py migrate --noinput -v 0
$PY manage.py collectstatic --noinput -v 0
$PY manage.py seed_demo

echo
echo "Wellsite Edge demo: http://$HOST:$PORT/   (API docs: http://$HOST:$PORT/api/docs/, health: http://$HOST:$PORT/api/health)"
echo "Stop with Ctrl-C."
exec .venv/bin/daphne -b "$HOST" -p "$PORT" erp.asgi:application
