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

# SCADA: simulated RTUs (Modbus TCP on 127.0.0.1:15021/15022) and the gateway polling them into the historian.
# Both run in the background next to the web server and are stopped with it.
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
$PY manage.py simulate_field >var/simulate_field.log 2>&1 &
PIDS+=($!)
$PY manage.py run_scada >var/run_scada.log 2>&1 &
PIDS+=($!)

echo
echo "Wellsite Edge demo: http://$HOST:$PORT/   (API docs: http://$HOST:$PORT/api/docs/, health: http://$HOST:$PORT/api/health)"
echo "SCADA: simulated RTUs and the gateway are running (logs: var/simulate_field.log, var/run_scada.log);"
echo "       live values at http://$HOST:$PORT/api/v1/scada/values/"
echo "Stop with Ctrl-C."
.venv/bin/daphne -b "$HOST" -p "$PORT" erp.asgi:application &
PIDS+=($!)
wait "${PIDS[-1]}"
