"""Who is acting, and from where: one ContextVar for the whole process.

The web middleware, the gateway, Celery tasks and management commands set it; the audit trail reads it. A ContextVar
(not a thread-local) follows asyncio tasks and ``sync_to_async`` hops, so concurrent requests never see each other's
actor (NetBox lost audit entries with its thread-local version under threaded servers).
"""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field


class Channel:
    UI = "ui"
    API = "api"
    ADMIN = "admin"
    COMMAND = "command"
    GATEWAY = "gateway"
    WORKER = "worker"
    SYNC = "sync"
    SYSTEM = "system"

    ALL = (UI, API, ADMIN, COMMAND, GATEWAY, WORKER, SYNC, SYSTEM)


@dataclass
class ActingContext:
    channel: str = Channel.SYSTEM
    user: object | None = None  # a User, or None for "system"
    request: object | None = None  # the HttpRequest: its .user is read lazily (DRF authenticates inside the view)
    ip: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def actor(self):
        if self.request is not None:
            user = getattr(self.request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False):
                return user
        return self.user if getattr(self.user, "is_authenticated", False) else None


_SYSTEM = ActingContext()
_current: ContextVar[ActingContext] = ContextVar("wellsite_acting_context", default=_SYSTEM)


def current() -> ActingContext:
    return _current.get()


@contextlib.contextmanager
def acting(channel: str = Channel.SYSTEM, user=None, request=None, ip: str | None = None):
    """Run a block as ``user`` (or the system) through ``channel``; restores the previous context on exit."""
    token = _current.set(ActingContext(channel=channel, user=user, request=request, ip=ip))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def client_ip(request) -> str | None:
    """The client address. X-Forwarded-For is honoured only behind a trusted TLS proxy (BEHIND_TLS_PROXY)."""
    from django.conf import settings

    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")
