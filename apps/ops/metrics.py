"""Prometheus series of the box, served at /metrics (see views.metrics and docs/operations.md).

Other parts of the product update them through the small functions below (import is cheap and has no side effect
beyond registering the series once):

    from apps.ops import metrics
    metrics.observe_historian_write(seconds=0.012, batch_size=500)     # historian writer, after each COPY
    metrics.count_samples("modbus", 125)                               # drivers / historian, samples accepted
    metrics.count_dead_letter("mqtt")                                  # a message parked in the dead-letter store
    metrics.set_queue_depth(n)                                         # gateway, each tick
    metrics.count_gateway_dropped("repeated_mark", 3)                  # gateway, samples not queued (by reason)
    metrics.set_device_state("RTU-01", connected=True)                 # drivers, on (dis)connect
    metrics.set_active_alarms({"urgent": 1, "high": 3})                # alarm engine, on each state change
    metrics.set_sync_backlog(pending=42, oldest_age_seconds=180.0)     # sync forwarder, each cycle

Values that are cheaper to read than to push can be computed when Prometheus scrapes: ``register_scrape_hook(fn)``
runs ``fn()`` (which sets gauges) before each exposition; the backup age is computed that way here.

Several processes (web server, gateway, worker) each hold their own series. Set PROMETHEUS_MULTIPROC_DIR to a
directory shared by those processes (a shared volume in Compose) and /metrics aggregates all of them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # The per-process files are created with the first series below: the directory must exist.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

HTTP_REQUESTS = Counter("wellsite_http_requests", "HTTP requests served", ["view", "method", "status"])
HTTP_LATENCY = Histogram(
    "wellsite_http_request_duration_seconds", "HTTP request latency by view", ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HISTORIAN_WRITE = Histogram(
    "wellsite_historian_write_duration_seconds", "Historian batch write latency",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
HISTORIAN_BATCH = Histogram(
    "wellsite_historian_batch_size", "Samples per historian batch write",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
SAMPLES = Counter("wellsite_samples_ingested", "Samples ingested, by protocol", ["protocol"])
DEAD_LETTERS = Counter("wellsite_dead_letters", "Messages moved to the dead-letter store", ["source"])
QUEUE_DEPTH = Gauge("wellsite_gateway_queue_depth", "Samples waiting in the gateway queue", multiprocess_mode="max")
DEVICE_CONNECTED = Gauge(
    "wellsite_device_connected", "1 when the gateway is connected to the device", ["device"], multiprocess_mode="max"
)
GATEWAY_DROPPED = Counter("wellsite_gateway_samples_dropped",
                          "Samples the gateway did not queue for the historian, by reason", ["reason"])
GATEWAY_DROP_REASONS = ("repeated_mark",)  # a quality mark repeating the tag's previous one, on a full queue
for _reason in GATEWAY_DROP_REASONS:
    GATEWAY_DROPPED.labels(reason=_reason)  # listed at 0 from start-up: a scrape can tell "none yet" from "unknown"
ALARMS_ACTIVE = Gauge("wellsite_alarms_active", "Active alarms by priority", ["priority"], multiprocess_mode="max")
SYNC_BACKLOG = Gauge("wellsite_sync_backlog", "Outbox events not yet acknowledged by the hub",
                     multiprocess_mode="max")
SYNC_OLDEST_AGE = Gauge("wellsite_sync_oldest_pending_age_seconds", "Age of the oldest unsent outbox event",
                        multiprocess_mode="max")
BACKUP_AGE = Gauge("wellsite_backup_age_seconds", "Seconds since the last successful backup (-1: never)",
                   multiprocess_mode="max")
BACKUP_LAST = Gauge("wellsite_backup_last_success_timestamp_seconds", "Unix time of the last successful backup",
                    multiprocess_mode="max")

SERIES = (HTTP_REQUESTS, HTTP_LATENCY, HISTORIAN_WRITE, HISTORIAN_BATCH, SAMPLES, DEAD_LETTERS, QUEUE_DEPTH,
          GATEWAY_DROPPED, DEVICE_CONNECTED, ALARMS_ACTIVE, SYNC_BACKLOG, SYNC_OLDEST_AGE, BACKUP_AGE, BACKUP_LAST)

_hooks: list[Callable[[], None]] = []


def observe_historian_write(seconds: float, batch_size: int) -> None:
    HISTORIAN_WRITE.observe(seconds)
    HISTORIAN_BATCH.observe(batch_size)


def count_samples(protocol: str, count: int = 1) -> None:
    SAMPLES.labels(protocol=protocol).inc(count)


def count_dead_letter(source: str, count: int = 1) -> None:
    DEAD_LETTERS.labels(source=source).inc(count)


def count_gateway_dropped(reason: str, count: int = 1) -> None:
    GATEWAY_DROPPED.labels(reason=reason).inc(count)


def set_queue_depth(depth: int) -> None:
    QUEUE_DEPTH.set(depth)


def set_device_state(device: str, connected: bool) -> None:
    DEVICE_CONNECTED.labels(device=device).set(1 if connected else 0)


def set_active_alarms(by_priority: dict[str, int]) -> None:
    for priority, count in by_priority.items():
        ALARMS_ACTIVE.labels(priority=priority).set(count)


def set_sync_backlog(pending: int, oldest_age_seconds: float | None) -> None:
    SYNC_BACKLOG.set(pending)
    SYNC_OLDEST_AGE.set(oldest_age_seconds or 0)


def register_scrape_hook(hook: Callable[[], None]) -> None:
    """Run ``hook()`` before each /metrics exposition (e.g. to count rows into a gauge). Idempotent."""
    if hook not in _hooks:
        _hooks.append(hook)


def _backup_age() -> None:
    from apps.ops.backup import last_backup_time

    last = last_backup_time()
    BACKUP_AGE.set(-1 if last is None else max(0.0, time.time() - last))
    BACKUP_LAST.set(0 if last is None else last)


register_scrape_hook(_backup_age)


def run_scrape_hooks() -> None:
    for hook in list(_hooks):
        try:
            hook()
        except Exception:  # noqa: BLE001 - one broken hook must not take /metrics down
            log.exception("metrics scrape hook %s failed", getattr(hook, "__name__", hook))
