"""Liveness (/api/health) and readiness (/api/ready): no authentication, no secrets in the answers."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.apps import STARTED_AT


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except DatabaseError:
        return False


def mqtt_state(timeout: float = 0.5) -> str:
    """'disabled' without MQTT_URL; otherwise whether the broker accepts a TCP connection."""
    if not settings.MQTT_URL:
        return "disabled"
    parts = urlsplit(settings.MQTT_URL)
    port = parts.port or (8883 if parts.scheme in ("mqtts", "ssl") else 1883)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
            return "connected"
    except OSError:
        return "disconnected"


def pending_migrations() -> list[str]:
    """Every migration of the code not recorded as applied (also a hole below an applied one, which Django's
    leaf-based migration plan would not report)."""
    executor = MigrationExecutor(connection)
    graph, applied = executor.loader.graph, executor.loader.applied_migrations
    needed = {node for leaf in graph.leaf_nodes() for node in graph.forwards_plan(leaf)}
    return sorted(f"{app}.{name}" for app, name in needed if (app, name) not in applied)


@never_cache
@require_GET
def health(request):
    db = database_ok()
    return JsonResponse(
        {
            "status": "healthy" if db else "degraded",
            "version": settings.VERSION,
            "database": "connected" if db else "disconnected",
            "mqtt": mqtt_state(),
            "uptime_seconds": int(time.monotonic() - STARTED_AT),
        }
    )


@never_cache
@require_GET
def ready(request):
    checks: dict[str, str] = {}
    if database_ok():
        checks["database"] = "ok"
        try:
            pending = pending_migrations()
            checks["migrations"] = "ok" if not pending else f"{len(pending)} not applied"
        except DatabaseError as exc:
            checks["migrations"] = f"cannot read: {exc.__class__.__name__}"
    else:
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    failed = [name for name, state in checks.items() if state != "ok"]
    return JsonResponse(
        {"status": "ready" if not failed else "not_ready", "checks": checks, "failed": failed},
        status=200 if not failed else 503,
    )
