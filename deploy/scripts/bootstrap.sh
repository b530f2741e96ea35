#!/usr/bin/env bash
# Installs what `make demo` and `make test` need on a fresh Debian machine: Python 3.11 with venv, the pinned
# packages in .venv, and (for tests, with --servers) the PostgreSQL, Redis and Mosquitto server binaries.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."

want_servers=0
want_demo=0
[ "${1:-}" = "--servers" ] && want_servers=1
[ "${1:-}" = "--demo" ] && want_demo=1

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $* missing and apt-get is not available; install them by hand." >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  echo "installing with apt-get: $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  apt_install python3.11 python3.11-venv
  PYTHON=python3.11
fi
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_install python3.11-venv
fi

if [ "$want_servers" = 1 ]; then
  pkgs=()
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then pkgs+=(postgresql); fi
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || pkgs+=(mosquitto)
  command -v socat >/dev/null 2>&1 || pkgs+=(socat)  # serial pseudo-terminal pairs for the Modbus RTU tests
  [ -x /usr/bin/chromium ] || pkgs+=(chromium)  # browser tests (Playwright drives Debian's Chromium, never its own)
  if [ ${#pkgs[@]} -gt 0 ]; then apt_install "${pkgs[@]}"; fi
fi

# The demo's MQTT devices need a broker: the demo starts Debian's mosquitto as its own child process (no service).
# Without it (no apt, no network) the demo still runs; the MQTT tags show Bad and the gateway keeps retrying.
if [ "$want_demo" = 1 ] && ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  ( apt_install mosquitto ) || echo "warning: mosquitto could not be installed; the MQTT part of the demo is off." >&2
fi

stamp=.venv/.requirements.sha256
sum=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "creating .venv and installing the pinned packages..."
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$sum" > "$stamp"
fi
