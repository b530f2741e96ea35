"""Real servers for the test session, started from the system's binaries on free loopback ports.

PostgreSQL (initdb in a temporary directory), Redis and Mosquitto each run as a child process and are torn down at the
end of the session. Nothing here is a mock: the tests talk to the same server software the box runs.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0, name: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def find_binary(name: str, extra_globs: tuple[str, ...] = ()) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for pattern in extra_globs:
        matches = sorted(glob.glob(pattern), reverse=True)
        if matches:
            return matches[0]
    return None


class ManagedServer:
    name = "server"

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix=f"wellsite-{self.name}-"))
        self.port = free_port()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):  # pragma: no cover - interface
        raise NotImplementedError


class PostgresServer(ManagedServer):
    """A throw-away PostgreSQL cluster. As root, initdb/postgres run as the ``postgres`` system user."""

    name = "postgres"
    user = "wellsite"

    def _cmd(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def start(self):
        initdb = find_binary("initdb", ("/usr/lib/postgresql/*/bin/initdb",))
        postgres = find_binary("postgres", ("/usr/lib/postgresql/*/bin/postgres",))
        if not initdb or not postgres:
            raise RuntimeError("PostgreSQL binaries not found: run `make test` (it installs them) or set DATABASE_URL")
        data = self.tmp / "data"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        subprocess.run(
            self._cmd([initdb, "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-locale"]),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.proc = subprocess.Popen(
            self._cmd([
                postgres, "-D", str(data), "-p", str(self.port), "-k", str(self.tmp),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=100", "-c", "shared_buffers=128MB",
            ]),
            stdout=subprocess.DEVNULL, stderr=open(self.tmp / "postgres.log", "wb"),
        )
        wait_for_port(self.port, self.proc, name="PostgreSQL")
        # The port answers before the cluster accepts logins; retry until it does.
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def url(self, db: str = "wellsite") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{db}"


class RedisServer(ManagedServer):
    name = "redis"

    def start(self):
        binary = find_binary("redis-server")
        if not binary:
            raise RuntimeError("redis-server not found: run `make test` (it installs it) or set REDIS_URL")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, name="Redis")
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class MosquittoServer(ManagedServer):
    name = "mosquitto"
    limits = ("max_queued_messages 100000",)  # mosquitto.conf lines (bench/ingest.py lifts the limits)

    def start(self):
        binary = find_binary("mosquitto", ("/usr/sbin/mosquitto",))
        if not binary:
            raise RuntimeError("mosquitto not found: run `make test` (it installs it) or set MQTT_URL")
        conf = self.tmp / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false",
                 "log_dest stderr", "log_type error", *self.limits]
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.tmp / "mosquitto.log", "wb"))
        wait_for_port(self.port, self.proc, name="Mosquitto")
        return self

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"
