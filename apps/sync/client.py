"""The edge's HTTP(S) client to the hub: standard library only (http.client + ssl).

TLS: the hub certificate is verified against SYNC_CA_FILE (or the system CAs), host name checked, TLS 1.2 minimum
(SYNC_TLS_MIN_VERSION=1.3 to require 1.3); 1.3 is negotiated whenever the hub offers it. Plain http is refused except
to a loopback address (tests and the benchmark run the hub on 127.0.0.1).
"""

from __future__ import annotations

import copy
import gzip
import http.client
import ipaddress
import json
import ssl
from urllib.parse import urlencode, urlsplit

import orjson
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder

from erp import __version__

AUTH_SCHEME = "Sync"
_json_default = DjangoJSONEncoder().default


class HubError(Exception):
    """The hub could not be reached or answered with an error (the batch stays pending)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_file: str | None = None, min_version: str = "1.2") -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if min_version == "1.3" else ssl.TLSVersion.TLSv1_2
    return ctx


class HubClient:
    def __init__(self, url: str | None = None, token: str | None = None, *, ca_file: str | None = None,
                 timeout: float | None = None, min_tls: str | None = None):
        url = url if url is not None else settings.HUB_URL
        if not url:
            raise ImproperlyConfigured("HUB_URL is not set: this edge has no hub to sync with.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImproperlyConfigured(f"HUB_URL={url!r} must be an https:// URL.")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ImproperlyConfigured("HUB_URL must use https (plain http is only allowed to a loopback hub).")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path.rstrip("/")
        self.token = token if token is not None else settings.SYNC_TOKEN
        self.timeout = timeout if timeout is not None else settings.SYNC_TIMEOUT_SECONDS
        self.ssl = None
        if self.scheme == "https":
            self.ssl = tls_context(ca_file if ca_file is not None else settings.SYNC_CA_FILE,
                                   min_tls or settings.SYNC_TLS_MIN_VERSION)
        self._conn: http.client.HTTPConnection | None = None
        self.tls_version: str | None = None

    # -- transport -------------------------------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.scheme == "https":
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.ssl)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def clone(self) -> HubClient:
        """The same hub and credentials on a connection of its own (the forwarder's second batch in flight)."""
        other = copy.copy(self)
        other._conn = None
        return other

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                auth: bool = True, on_sent=None) -> tuple[int, bytes]:
        """One request; ``on_sent()`` is called once the request (body included) is written, before the answer is
        awaited (the pipelined forwarder lets its next batch go then)."""
        hdrs = {"User-Agent": f"wellsite-edge-sync/{__version__}", "Accept": "application/json",
                "Accept-Encoding": "identity"}
        if auth:
            hdrs["Authorization"] = f"{AUTH_SCHEME} {self.token}"
        hdrs.update(headers or {})
        conn = self._connection()
        try:
            conn.request(method, self.base + path, body=body, headers=hdrs)
            if isinstance(conn.sock, ssl.SSLSocket):
                self.tls_version = conn.sock.version()
            if on_sent is not None:
                on_sent()
            response = conn.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, data
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise HubError(f"{exc.__class__.__name__}: {exc}") from exc

    def _json(self, status: int, data: bytes, what: str) -> dict:
        if status >= 400:
            try:
                message = json.loads(data).get("message", "")
            except (ValueError, AttributeError):
                message = data[:200].decode(errors="replace")
            raise HubError(f"{what}: HTTP {status} {message}".strip(), status)
        try:
            return orjson.loads(data)
        except ValueError as exc:
            raise HubError(f"{what}: the answer is not JSON") from exc

    # -- API -------------------------------------------------------------------------------------------------------
    def health(self) -> bool:
        try:
            status, data = self.request("GET", "/api/health", auth=False)
        except HubError:
            return False
        if status != 200:
            return False
        try:
            return json.loads(data).get("database") == "connected"
        except (ValueError, AttributeError):
            return False

    def push(self, events: list[dict], backlog: dict | None = None) -> list[dict]:
        return self.push_docs([orjson.dumps(e, default=_json_default) for e in events], backlog)

    def push_docs(self, docs: list[bytes], backlog: dict | None = None, after: int | None = None,
                  on_sent=None) -> list[dict]:
        """Push events already encoded as JSON (the forwarder has PostgreSQL write them); returns the per-event
        results. The body is assembled around them, gzip-compressed at SYNC_GZIP_LEVEL. ``after``: the last
        sequence of the batch sent just before this one, still unanswered (the hub applies that one first)."""
        head = orjson.dumps({"edge_id": settings.EDGE_ID, "backlog": backlog or {}, "after": after})
        body = b"".join((head[:-1], b',"events":[', b",".join(docs), b"]}"))
        status, data = self.request(
            "POST", "/api/v1/sync/push", gzip.compress(body, compresslevel=settings.SYNC_GZIP_LEVEL),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"}, on_sent=on_sent,
        )
        answer = self._json(status, data, "push")
        results = answer.get("results")
        if not isinstance(results, list):
            raise HubError("push: the answer has no results")
        return results

    def pull(self, cursor: int, limit: int) -> dict:
        status, data = self.request("GET", "/api/v1/sync/pull?" + urlencode({"cursor": cursor, "limit": limit}))
        return self._json(status, data, "pull")

    def push_telemetry(self, stream: str, rows: list, start, end) -> dict:
        body = orjson.dumps({"edge_id": settings.EDGE_ID, "stream": stream, "from": start, "to": end, "rows": rows},
                            default=str)
        status, data = self.request(
            "POST", "/api/v1/sync/telemetry", gzip.compress(body, compresslevel=settings.SYNC_GZIP_LEVEL),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        return self._json(status, data, "telemetry")
