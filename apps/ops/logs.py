"""JSON log lines on stdout with the request id, and redaction of secrets.

``RequestIdFilter`` copies the acting context's request id, channel and actor onto each record; ``JsonFormatter``
renders one JSON object per line and passes the message through ``redact()`` so that a password, a token, a JWT, an
Authorization header or a long raw payload never reaches a log line, whoever wrote the log call. Loaded from the
LOGGING setting before the apps, so this module imports no models.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime

MAX_MESSAGE = 2000  # longer messages are cut: a raw device payload or request body never lands whole in a log

_SECRET_WORDS = r"(?:password|passwd|pwd|passphrase|secret|token|access|refresh|api[_-]?key|authorization|cookie|" \
                r"sessionid|csrftoken)"
_PATTERNS = [
    # Authorization: Bearer/Basic <credentials>
    re.compile(r"(?i)\b(bearer\s+|basic\s+)([A-Za-z0-9._~+/=-]{8,})"),
    # key=value, key: value, "key": "value" (JSON, query strings, form bodies, dict reprs)
    re.compile(rf"(?i)([\"']?\b\w*{_SECRET_WORDS}\w*[\"']?\s*[:=]\s*)(?!Bearer |Basic |\[REDACTED\])"
               rf"(\"[^\"]*\"|'[^']*'|[^\s,;&}}\]]+)"),
    # a bare JWT anywhere
    re.compile(r"()\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # URLs with credentials: scheme://user:password@host
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)([^@\s/]+)(?=@)"),
]
REDACTED = "[REDACTED]"
_SECRET_KEY = re.compile(rf"(?i){_SECRET_WORDS}")


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) or "") + REDACTED, text)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + f"... [{len(text) - MAX_MESSAGE} characters cut]"
    return text


class RequestIdFilter(logging.Filter):
    """Adds ``request_id``, ``channel`` and ``actor`` from the acting context (apps.core.context)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from apps.core.context import current

        ctx = current()
        record.request_id = getattr(record, "request_id", None) or ctx.request_id
        record.channel = ctx.channel
        actor = None
        try:
            actor = ctx.actor
        except Exception:  # noqa: BLE001 - a log call must never fail because the user cannot be loaded
            actor = None
        record.actor = actor.get_username() if actor is not None else None
        return True


_SKIP = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request", "server_time"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken %-format must still produce a line
            message = str(record.msg)
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(message),
            "request_id": getattr(record, "request_id", None),
            "channel": getattr(record, "channel", None),
            "actor": getattr(record, "actor", None),
        }
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            entry["path"] = request.path  # the path only: no query string, body or headers
            entry["method"] = getattr(request, "method", None)
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        for key, value in record.__dict__.items():
            if key in _SKIP or key in entry or key.startswith("_"):
                continue
            if _SECRET_KEY.search(key):
                entry[key] = REDACTED
            elif isinstance(value, (str, int, float, bool)) or value is None:
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact("".join(traceback.format_exception(*record.exc_info))[-4000:])
        return json.dumps(entry, ensure_ascii=False, default=str)
