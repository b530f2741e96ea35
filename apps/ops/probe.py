"""Container probe for the processes that serve no HTTP (gateway, beat, forwarder): ``python -m apps.ops.probe``.

Exit 0 when the database answers (and Redis, when REDIS_URL is set, accepts a TCP connection), 1 otherwise. It
reads the same environment as the product but does not start Django, so it costs a few milliseconds of CPU on the
box. The web tier uses /api/health (liveness) and /api/ready (readiness) instead.
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit


def _env(name: str) -> str:
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    return os.environ.get(name, "")


def database_ok(url: str, timeout: float = 3.0) -> bool:
    if not url or url.startswith("sqlite"):
        import sqlite3

        path = url.split("sqlite:///", 1)[-1] if url else os.path.join(os.environ.get("VAR_DIR", "var"),
                                                                        "wellsite.sqlite3")
        try:
            sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout).execute("SELECT 1").close()
            return True
        except sqlite3.Error:
            return False
    import psycopg

    try:
        with psycopg.connect(url.replace("timescale://", "postgres://", 1), connect_timeout=int(timeout)) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def tcp_ok(url: str, default_port: int, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or default_port), timeout=timeout):
            return True
    except OSError:
        return False


def main() -> int:
    problems = []
    if not database_ok(_env("DATABASE_URL")):
        problems.append("database unreachable")
    redis = _env("REDIS_URL")
    if redis and not tcp_ok(redis, 6379):
        problems.append("redis unreachable")
    if problems:
        print("not ready: " + ", ".join(problems), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
