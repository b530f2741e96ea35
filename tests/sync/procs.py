"""Real processes for the sync reliability tests: a hub (daphne) on its own database, forwarders, a flaky proxy."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psycopg

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def base_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "HUB_", "SYNC_", "EDGE_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update({
        "DEBUG": "0", "SECRET_KEY": "sync-test-secret-" + "k" * 40, "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", "REDIS_URL": "", "MQTT_URL": "",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Hub:
    """``daphne`` serving the project as a hub (EDGE_ROLE=hub) against its own PostgreSQL database."""

    def __init__(self, db_url: str, port: int | None = None, log_dir: Path | None = None):
        self.db_url = db_url
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = (log_dir or Path("/tmp")) / f"sync-hub-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Hub:
        env = base_env(EDGE_ROLE="hub", EDGE_ID="hub", DATABASE_URL=self.db_url)
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "erp.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited ({self.proc.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=2) as r:
                    if json.loads(r.read()).get("database") == "connected":
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"hub did not answer within {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # -- looking into the hub's database ---------------------------------------------------------------------
    def query(self, sql: str, params=()) -> list[tuple]:
        with psycopg.connect(self.db_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def issue_token(self, edge_id: str) -> str:
        secret = secrets.token_urlsafe(24)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        with psycopg.connect(self.db_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO sync_edgecredential (edge_id, description, token_hash, previous_token_hash, scopes, "
                "is_active, created_at, events_received) VALUES (%s, '', %s, '', '[\"sync\"]', true, now(), 0)",
                (edge_id, digest),
            )
        return f"{edge_id}:{secret}"


def forwarder_env(edge_db_url: str, hub_url: str, token: str, edge_id: str, **extra) -> dict:
    settings = {
        "EDGE_ROLE": "edge", "EDGE_ID": edge_id, "DATABASE_URL": edge_db_url, "HUB_URL": hub_url,
        "SYNC_TOKEN": token, "SYNC_INTERVAL_SECONDS": "0.1", "SYNC_BACKOFF_BASE_SECONDS": "0.05",
        "SYNC_BACKOFF_MAX_SECONDS": "0.5", "SYNC_TIMEOUT_SECONDS": "5", "SYNC_PULL_SETTLE_SECONDS": "0",
    }
    settings.update({k: str(v) for k, v in extra.items()})
    return base_env(**settings)


def run_sync_once(env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "manage.py", "run_sync", "--once"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def start_forwarder(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "manage.py", "run_sync"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "ab"))


class FlakyProxy:
    """A TCP proxy on loopback between the forwarder and the hub.

    Modes: ``pass``; ``refuse`` (connections are closed at once); ``hold`` (pushes reach the hub, its answers are
    swallowed: the hub applies a batch and the forwarder never learns it). ``cut()`` drops every open connection.
    """

    def __init__(self, target_port: int):
        self.target = target_port
        self.port = free_port()
        self.mode = "pass"
        self._sock = socket.create_server(("127.0.0.1", self.port))
        self._sock.settimeout(0.2)
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            if self.mode == "refuse":
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client, upstream):
        pair = {client: upstream, upstream: client}
        posting = False
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.2)
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is client and data[:4] in (b"GET ", b"POST"):
                        posting = data.startswith(b"POST")
                    if s is upstream and self.mode == "hold" and posting:
                        continue  # the hub's answer to a push is lost
                    pair[s].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (client, upstream):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self):
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self.cut()
        self._sock.close()
