"""Real servers for the test session, started from the system's binaries on free loopback ports.

PostgreSQL (initdb in a temporary directory), Redis and Mosquitto each run as a child process and are torn down at the
end of the session. Nothing here is a mock: the tests talk to the same server software the box runs.

A free port is found by binding port 0 and closing the probe socket; the server binds it a moment later, and another
process (a parallel test worker, another test run, an outgoing connection) can take it in between. ``start()`` then
sees the server exit with "address in use", or finds the port answered by someone else's server, and starts again on
a new port (``START_ATTEMPTS`` in all), unless the caller fixed the port (a restart on the same port).
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


START_ATTEMPTS = 5


class PortTaken(RuntimeError):
    """The server could not listen on its port: another process took it after ``free_port()`` found it free."""


def _in_use(log: Path) -> bool:
    try:
        text = log.read_text(errors="replace").lower()
    except OSError:
        return False
    return "address already in use" in text or "address in use" in text


def _listening_inodes(port: int) -> set[str] | None:
    """Socket inodes listening on 127.0.0.1:``port`` (None where /proc/net/tcp cannot be read)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    local = f"0100007F:{port:04X}"
    return {cols[9] for cols in (line.split() for line in lines) if cols[1] == local and cols[3] == "0A"}


def _process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in glob.glob(f"/proc/{current}/task/*/children"):
            try:
                todo += [int(c) for c in Path(task).read_text().split()]
            except (OSError, ValueError):
                pass
    return pids


def owns_port(proc: subprocess.Popen, port: int) -> bool | None:
    """Whether ``proc`` (or a child of it: runuser forks) is what listens on 127.0.0.1:``port``; None if /proc does not
    tell."""
    inodes = _listening_inodes(port)
    if inodes is None:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    seen_any = False
    for pid in _process_tree(proc.pid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        seen_any = True
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return True
            except OSError:
                continue
    return False if seen_any else None


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
        self.port = self._picked = free_port()

    def start(self):
        """Start the server; on "address in use" start it again on a new port (only on a port picked here: a port
        the caller set, for a restart on the same port, is kept and the failure raised)."""
        for attempt in range(START_ATTEMPTS):
            try:
                self._start()
                return self
            except PortTaken:
                self._end_process()
                if self.port != self._picked or attempt == START_ATTEMPTS - 1:
                    raise
                self.port = self._picked = free_port()
        raise AssertionError("unreachable")

    def _start(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _listening(self, log: Path, timeout: float = 30.0) -> None:
        """Wait until the started process listens on ``self.port``; PortTaken if it could not bind the port, or if the
        port is answered by another process (ours then exits with "address in use")."""
        try:
            wait_for_port(self.port, self.proc, timeout=timeout, name=self.name)
        except RuntimeError:
            if self.proc.poll() is not None and _in_use(log):
                raise PortTaken(f"{self.name}: port {self.port} was taken by another process")
            raise
        deadline = time.monotonic() + timeout
        while owns_port(self.proc, self.port) is False:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise PortTaken(f"{self.name}: port {self.port} answers, but from another process")
            time.sleep(0.05)

    def _end_process(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def stop(self) -> None:
        self._end_process()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class PostgresServer(ManagedServer):
    """A throw-away PostgreSQL cluster. As root, initdb/postgres run as the ``postgres`` system user."""

    name = "postgres"
    user = "wellsite"
    # Server settings (-c name=value): a throw-away cluster, durability off. A copy with changes sizes it otherwise
    # (bench/sync_drain.py --pg-memory: memory as the deployment's TimescaleDB image tunes it).
    config = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "100",
              "shared_buffers": "128MB"}

    def _cmd(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def _start(self) -> None:
        initdb = find_binary("initdb", ("/usr/lib/postgresql/*/bin/initdb",))
        postgres = find_binary("postgres", ("/usr/lib/postgresql/*/bin/postgres",))
        if not initdb or not postgres:
            raise RuntimeError("PostgreSQL binaries not found: run `make test` (it installs them) or set DATABASE_URL")
        data = self.tmp / "data"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        if not (data / "PG_VERSION").exists():  # a retry on a new port reuses the cluster
            subprocess.run(
                self._cmd([initdb, "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-locale"]),
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
        log = self.tmp / f"postgres-{self.port}.log"
        self.proc = subprocess.Popen(
            self._cmd([
                postgres, "-D", str(data), "-p", str(self.port), "-k", str(self.tmp),
                "-c", "listen_addresses=127.0.0.1",
                *(arg for name, value in self.config.items() for arg in ("-c", f"{name}={value}")),
            ]),
            stdout=subprocess.DEVNULL, stderr=open(log, "wb"),
        )
        self._listening(log)
        # The port answers before the cluster accepts logins; retry until it does.
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if self.proc.poll() is not None and _in_use(log):
                    raise PortTaken(f"postgres: port {self.port} was taken by another process")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, db: str = "wellsite") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{db}"


class RedisServer(ManagedServer):
    name = "redis"

    def _start(self) -> None:
        binary = find_binary("redis-server")
        if not binary:
            raise RuntimeError("redis-server not found: run `make test` (it installs it) or set REDIS_URL")
        log = self.tmp / f"redis-{self.port}.log"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp), "--protected-mode", "yes", "--loglevel", "warning"],
            stdout=open(log, "wb"), stderr=subprocess.STDOUT,
        )
        self._listening(log)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class MosquittoServer(ManagedServer):
    name = "mosquitto"
    limits = ("max_queued_messages 100000",)  # mosquitto.conf lines (bench/ingest.py lifts the limits)

    def _start(self) -> None:
        binary = find_binary("mosquitto", ("/usr/sbin/mosquitto",))
        if not binary:
            raise RuntimeError("mosquitto not found: run `make test` (it installs it) or set MQTT_URL")
        conf = self.tmp / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false",
                 "log_dest stderr", "log_type error", *self.limits]
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        log = self.tmp / f"mosquitto-{self.port}.log"
        self.proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
        self._listening(log)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"
