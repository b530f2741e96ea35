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

# MQTT: the demo's own broker (Debian's mosquitto as a child process, persistent sessions kept under var/), on a
# port of its own so a site broker on 1883 is left alone.
MQTT_PORT="${MQTT_PORT:-11883}"
MOSQUITTO="$(command -v mosquitto || { [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto; } || true)"
if [ -n "$MOSQUITTO" ]; then
  mkdir -p var/mosquitto
  {
    echo "listener $MQTT_PORT 127.0.0.1"
    echo "allow_anonymous true"
    echo "persistence true"
    echo "persistence_location $PWD/var/mosquitto/"
    echo "max_queued_messages 100000"
    echo "log_dest file $PWD/var/mosquitto/mosquitto.log"
    if [ "$(id -u)" = 0 ]; then echo "user root"; fi
  } > var/mosquitto/mosquitto.conf
  export MQTT_URL="mqtt://127.0.0.1:$MQTT_PORT"
fi

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
if [ -n "$MOSQUITTO" ]; then
  "$MOSQUITTO" -c var/mosquitto/mosquitto.conf >/dev/null 2>&1 &
  PIDS+=($!)
  sleep 0.5
fi
$PY manage.py simulate_field >var/simulate_field.log 2>&1 &
PIDS+=($!)
$PY manage.py run_scada >var/run_scada.log 2>&1 &
PIDS+=($!)

echo
echo "Wellsite Edge demo: http://$HOST:$PORT/   (API docs: http://$HOST:$PORT/api/docs/, health: http://$HOST:$PORT/api/health)"
echo "SCADA: the simulated field and the gateway are running (logs: var/simulate_field.log, var/run_scada.log):"
echo "       Modbus TCP RTUs on 127.0.0.1:15021/15022, the OPC-UA separation facility on opc.tcp://127.0.0.1:14840/wellsite/,"
if [ -n "$MOSQUITTO" ]; then
  echo "       MQTT (JSON and Sparkplug B) through the demo broker on $MQTT_URL,"
else
  echo "       MQTT: mosquitto is not installed, so the MQTT devices stay Bad (apt-get install mosquitto),"
fi
echo "       tank-gauging CSV exports picked up from var/csv/tank-gauging/ (drop more files there)."
echo "       Live values: http://$HOST:$PORT/hmi/   API: http://$HOST:$PORT/api/v1/scada/values/"
echo "Stop with Ctrl-C."
.venv/bin/daphne -b "$HOST" -p "$PORT" erp.asgi:application &
PIDS+=($!)
wait "${PIDS[-1]}"
