"""The test session's real servers (tests/servers.py) start even when their picked port is taken in between."""

from __future__ import annotations

import socket

import psycopg
import pytest

from tests import servers
from tests.servers import MosquittoServer, PortTaken, PostgresServer, RedisServer

# Starts a PostgreSQL cluster of its own; run once, in the PostgreSQL pass (the SQLite pass would only repeat it).
pytestmark = pytest.mark.postgres_only


def _redis_ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64)


def _mqtt_connack(port: int) -> bytes:
    # CONNECT, MQTT 3.1.1, clean session, keepalive 10 s, client id "t"
    connect = bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 10, 0, 1]) + b"t"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(connect)
        return s.recv(4)


def _pg_answers(server: PostgresServer) -> bool:
    with psycopg.connect(server.url("postgres").replace("postgres://", "postgresql://", 1)) as conn:
        return conn.execute("SELECT current_setting('data_directory')").fetchone()[0] == str(server.tmp / "data")


ANSWERS = {
    RedisServer: lambda s: _redis_ping(s.port) == b"+PONG\r\n",
    MosquittoServer: lambda s: _mqtt_connack(s.port) == bytes([0x20, 2, 0, 0]),
    PostgresServer: _pg_answers,
}


@pytest.fixture
def taken_port(monkeypatch, request):
    """A loopback port held by this process (listening, or only bound), handed out as the first "free" port."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    if request.param == "listening":
        holder.listen()
    port = holder.getsockname()[1]
    real = servers.free_port
    handed = iter([port])
    monkeypatch.setattr(servers, "free_port", lambda: next(handed, None) or real())
    yield port
    holder.close()


@pytest.mark.parametrize("taken_port", ["listening", "bound"], indirect=True)
@pytest.mark.parametrize("cls", [RedisServer, MosquittoServer, PostgresServer], ids=lambda c: c.name)
def test_server_moves_to_a_new_port_when_its_port_was_taken(cls, taken_port):
    """Bound only: the server exits with "address in use". Listening: the port answers, but not from our server (it
    exits too). Either way the start is retried on a new port and the server answered there is ours."""
    server = cls().start()
    try:
        assert server.port != taken_port
        assert server.proc.poll() is None
        assert ANSWERS[cls](server)
    finally:
        server.stop()


def test_a_port_the_caller_fixed_is_not_changed():
    """A restart on the same port (a broker outage in a test) keeps its port: a taken one is an error, not a move."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]

        class FixedPort(MosquittoServer):
            def __init__(self):
                super().__init__()
                self.port = taken

        server = FixedPort()
        try:
            with pytest.raises(PortTaken):
                server.start()
            assert server.port == taken
        finally:
            server.stop()
