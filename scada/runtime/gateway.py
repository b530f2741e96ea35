"""The gateway: one asyncio process that polls/receives every device and feeds the historian, current values and
the sample hooks (``manage.py run_scada``).

    driver task per device --publish()--> [current value store + SAMPLE_HOOKS] --> bounded SampleQueue
        --> historian writer (batches of SCADA_FLUSH_SAMPLES or every SCADA_FLUSH_MS, deadband filter, COPY)

Background tasks: configuration reload (a changed/added/removed device restarts only that device's task), stale
detection, setpoint writes (PENDING WriteCommands -> the device's task -> DONE/FAILED), current value persistence
every second, historian maintenance (partitions, retention) hourly. All database work runs in one dedicated thread
(``db_call``) carrying the caller's audit context (channel "gateway").

Historical samples (``Sample.historical``: CSV rows, HTTP ingest points and MQTT JSON values stamped longer ago than
``SCADA_LIVE_MAX_AGE_S``, Sparkplug store-and-forward) go to the historian only: ``publish`` keeps them out of the
current values and the hooks. The source flags them (``samples.mark_historical``), not the gateway: an OPC-UA
subscription's first value or a Sparkplug birth is the current state with the time of its last change. Quality marks
the gateway makes itself (tags Bad after a device failure, Stale after silence) go through ``publish_marks``, which
never waits on a full queue.

Extension points (docs/scada.md): ``SAMPLE_HOOKS`` (alarm engine, live publisher), ``scada.drivers.register_driver``
(new protocols), ``Gateway.publish`` (push drivers and ingest endpoints running inside the gateway).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import operator
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings

from scada import historian
from scada.drivers import driver_class
from scada.drivers.base import WriteError
from scada.runtime.config import DeviceConfig, TagConfig, config_signature, load_config
from scada.runtime.dbthread import db_guarded
from scada.runtime.queue import SampleQueue
from scada.runtime.recorder import Recorder
from scada.runtime.samples import BAD, STALE, Sample, now
from scada.runtime.store import CurrentValueStore, persist

log = logging.getLogger("scada.gateway")

# Consumers of every published batch: ``hook(samples: list[Sample], gateway) -> None | awaitable``.
# Called in the event loop as samples arrive (before the historian write): keep them fast, never block.
# Hooks see live samples only: historical ones (``Sample.historical``) are held back by ``Gateway.publish``.
SAMPLE_HOOKS: list[Callable] = []

_historical = operator.attrgetter("historical")


def add_sample_hook(hook: Callable) -> Callable:
    if hook not in SAMPLE_HOOKS:
        SAMPLE_HOOKS.append(hook)
    return hook


@dataclass
class Stats:
    published: int = 0
    recorded: int = 0
    flushes: int = 0
    write_errors: int = 0
    historical: int = 0  # published samples that went to the historian only (backfill)
    marks_dropped: int = 0  # quality marks not queued on a full queue: they repeated the tag's previous mark


def count_dropped(reason: str, n: int) -> None:
    """``wellsite_gateway_samples_dropped_total{reason}`` (declared in apps.ops.metrics): samples the gateway did not
    queue for the historian."""
    try:
        from apps.ops import metrics

        metrics.count_gateway_dropped(reason, n)
    except Exception:  # noqa: BLE001  (metrics are best effort)
        log.debug("dropped samples metric", exc_info=True)


class DeviceRunner:
    """One device: connect with exponential backoff, poll (or run a push driver), execute queued writes."""

    def __init__(self, gateway: Gateway, config: DeviceConfig):
        self.gateway = gateway
        self.config = config
        cls = driver_class(config.protocol)
        self.driver = cls(config, gateway.publish) if cls else None
        self.writes: deque = deque()
        self.wake = asyncio.Event()
        self.connected = False
        self.task: asyncio.Task | None = None
        self.connects = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"device-{self.config.name}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                log.debug("device %s task stopped", self.config.name)
            except Exception:  # noqa: BLE001
                log.exception("device %s task", self.config.name)
        if self.driver is not None:
            try:
                await self.driver.close()
            except Exception:  # noqa: BLE001
                log.exception("closing %s", self.config.name)
        for command_id, _tag, _value in self.writes:
            await self.gateway.finish_write(command_id, False, "gateway stopped the device")
        self.writes.clear()

    async def _bad(self) -> None:
        ts = now()
        # Never waits on a full queue (database down): the runner goes on retrying its connection.
        await self.gateway.publish_marks([Sample(t.key, ts, None, BAD) for t in self.config.tags])

    async def run(self) -> None:
        if self.driver is None:
            log.warning("device %s: no driver for protocol %s yet", self.config.name, self.config.protocol)
            return
        first = min(max(self.config.poll_interval_s, 0.1), 1.0)
        backoff = first
        while True:
            try:
                await self.driver.connect()
                self.connected = True
                self.connects += 1
                backoff = first
                log.info("device %s connected", self.config.name)
                if self.driver.polled:
                    await self._poll()
                else:
                    await self._push()
            except asyncio.CancelledError:
                self.connected = False
                raise
            except Exception as exc:  # noqa: BLE001  (any driver failure: mark Bad, reconnect)
                log.warning("device %s: %s", self.config.name, exc)
            self.connected = False
            await self._fail_writes("device not connected")
            await self._bad()
            try:
                await self.driver.close()
            except Exception:  # noqa: BLE001
                log.debug("device %s: close after failure", self.config.name, exc_info=True)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.gateway.reconnect_max)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.config.poll_interval_s
        next_at = loop.time()
        while True:
            await self._do_writes()
            samples = await self.driver.read()
            await self.gateway.publish(samples)
            next_at += interval
            while True:
                await self._do_writes()
                delay = next_at - loop.time()
                if delay <= 0:
                    break
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), delay)
                except TimeoutError:
                    break
            if loop.time() - next_at > interval:  # fell behind (slow device): do not burst to catch up
                next_at = loop.time()

    async def _push(self) -> None:
        """A push driver runs on its own; setpoint writes queued for the device are carried out as they arrive."""
        run = asyncio.create_task(self.driver.run(), name=f"push-{self.config.name}")
        waiter = None
        try:
            while not run.done():
                await self._do_writes()
                self.wake.clear()
                if self.writes:
                    continue
                waiter = asyncio.create_task(self.wake.wait())
                await asyncio.wait({run, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
            await run
        finally:
            run.cancel()
            if waiter is not None:
                waiter.cancel()  # the runner cancelled inside wait(): no pending task left behind

    def queue_write(self, command_id, tag: TagConfig, value: float) -> None:
        self.writes.append((command_id, tag, value))
        self.wake.set()

    async def _do_writes(self) -> None:
        while self.writes:
            command_id, tag, value = self.writes.popleft()
            try:
                await self.driver.write(tag, value)
            except WriteError as exc:
                await self.gateway.finish_write(command_id, False, str(exc))
            else:
                await self.gateway.finish_write(command_id, True, "")

    async def _fail_writes(self, reason: str) -> None:
        while self.writes:
            command_id, _tag, _value = self.writes.popleft()
            await self.gateway.finish_write(command_id, False, reason)


class Gateway:
    def __init__(self, *, flush_samples: int | None = None, flush_ms: int | None = None, queue_max: int | None = None,
                 reload_s: float | None = None, reconnect_max: float | None = None, stale_check_s: float = 0.25,
                 write_poll_s: float = 0.25, write_expiry_s: float = 60.0, hooks: list | None = None,
                 historian_writer: Callable | None = None):
        self.flush_samples = flush_samples or settings.SCADA_FLUSH_SAMPLES
        self.flush_s = (flush_ms or settings.SCADA_FLUSH_MS) / 1000.0
        self.queue = SampleQueue(queue_max or settings.SCADA_QUEUE_MAX_SAMPLES)
        self.reload_s = reload_s or settings.SCADA_CONFIG_RELOAD_S
        self.reconnect_max = reconnect_max or settings.SCADA_RECONNECT_MAX_S
        self.stale_check_s = stale_check_s
        self.write_poll_s = write_poll_s
        self.write_expiry_s = write_expiry_s
        self.hooks = hooks if hooks is not None else SAMPLE_HOOKS
        self.write_rows = historian_writer or historian.write_rows
        self.store = CurrentValueStore()
        self.recorder = Recorder()
        self.runners: dict[str, DeviceRunner] = {}
        self.tags_by_key: dict[int, TagConfig] = {}
        self.stats = Stats()
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scada-db")
        self._signature = None
        self._stopping = False
        self._inflight_writes: set = set()
        self.ready = asyncio.Event()

    # -- plumbing -------------------------------------------------------------------------------------------------
    async def db_call(self, fn, *args, **kwargs):
        """Run ``fn`` in the gateway's database thread with the caller's context (audit channel "gateway")."""
        ctx = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db, functools.partial(ctx.run, db_guarded, fn, *args, **kwargs))

    async def publish(self, samples: list[Sample], on_commit: Callable[[], None] | None = None) -> None:
        """Entry of the sample stream: current values, hooks, then the (bounded) historian queue.

        ``on_commit``: called (in the event loop, without arguments) once these samples and every sample published
        before them are committed to the historian or dropped by the recorder's deadband filter. A push source that
        must not lose data acknowledges its input there (MQTT manual ack, CSV archive). Not called if the gateway is
        killed first: the source then redelivers. Keep it fast; exceptions are logged.

        Historical samples (``Sample.historical``: backfill from a file or a store-and-forward source) go to the
        historian only: they do not change the current values, and the hooks (alarms, live HMI) do not see them.
        """
        if not samples:
            if on_commit is not None:
                self.queue.put_marker(on_commit)
            return
        live = samples
        if any(map(_historical, samples)):  # a C-level scan, ~20 ns a sample
            live = [s for s in samples if not s.historical]
            self.stats.historical += len(samples) - len(live)
        queued = False
        try:
            if live:
                self.store.update(live, time.time())
                await self._hooks(live)
            self.stats.published += len(samples)
            await self.queue.put_many(samples)
            queued = True
        except asyncio.CancelledError:
            # The device task is being stopped (SIGTERM, reconfiguration) in the middle of this batch: its samples are
            # in the current values already, so queue them past the bound for the shutdown flush instead of losing
            # them. The commit callback is not registered: a source that acknowledges will redeliver.
            if not queued:
                self.queue.put_nowait(samples)
            raise
        if on_commit is not None:
            self.queue.put_marker(on_commit)

    async def publish_marks(self, samples: list[Sample]) -> None:
        """Quality marks the gateway makes itself (a device's tags Bad after a failure, silent tags Stale): the
        current values, the historian queue and the hooks, as for ``publish``, but never waiting on the queue.

        With the database down the queue fills; a device runner that waited there to mark its tags Bad did not retry
        its connection until the database came back, and the stale check stopped the same way.
        On a full queue a mark that repeats the tag's previous mark past the bound is left out of the historian
        (``SampleQueue.put_marks``; counted in ``stats.marks_dropped`` and
        ``wellsite_gateway_samples_dropped_total{reason="repeated_mark"}``); the current values and the hooks still
        get every mark."""
        if not samples:
            return
        self.store.update(samples, time.time())
        self.stats.published += len(samples)
        dropped = self.queue.put_marks(samples)  # queued before the hooks: a cancelled hook loses nothing
        if dropped:
            self.stats.marks_dropped += dropped
            count_dropped("repeated_mark", dropped)
        await self._hooks(samples)

    async def _hooks(self, samples: list[Sample]) -> None:
        for hook in self.hooks:
            try:
                result = hook(samples, self)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # noqa: BLE001  (a broken consumer must not stop acquisition)
                log.exception("sample hook %r failed", hook)

    # -- configuration --------------------------------------------------------------------------------------------
    async def apply_config(self, configs: dict[str, DeviceConfig]) -> None:
        for device_id in list(self.runners):
            if device_id not in configs or configs[device_id] != self.runners[device_id].config:
                await self.runners.pop(device_id).stop()
        tags = [t for c in configs.values() for t in c.tags]
        self.tags_by_key = {t.key: t for t in tags}
        self.recorder.configure(tags)
        for device_id, config in configs.items():
            if device_id not in self.runners:
                runner = DeviceRunner(self, config)
                self.runners[device_id] = runner
                runner.start()

    async def reload_if_changed(self) -> bool:
        signature = await self.db_call(config_signature)
        if signature == self._signature:
            return False
        self._signature = signature
        await self.apply_config(await self.db_call(load_config))
        log.info("configuration reloaded: %d devices", len(self.runners))
        return True

    # -- background tasks -----------------------------------------------------------------------------------------
    async def _writer(self) -> None:
        while True:
            batch = await self.queue.get_batch(self.flush_samples, self.flush_s)
            committed = True
            if batch:
                committed = await self._record(self.recorder.filter(batch))
            if self.queue.has_markers():
                due = self.queue.due_markers(self.queue.taken_total)
                for callback in due if committed else ():  # rows lost at shutdown: the source must redeliver
                    try:
                        callback()
                    except Exception:  # noqa: BLE001  (a source's acknowledgement must not stop the writer)
                        log.exception("commit callback %r failed", callback)
            if not batch and self._stopping:
                return

    async def _record(self, rows) -> bool:
        """Write rows, retrying while the database is away; False only when they were given up at shutdown."""
        delay, attempts = 0.2, 0
        while rows:
            try:
                await self.db_call(self.write_rows, rows)
                self.stats.recorded += len(rows)
                self.stats.flushes += 1
                return True
            except Exception:  # noqa: BLE001  (database down: hold the rows, the queue fills, drivers slow down)
                self.stats.write_errors += 1
                attempts += 1
                log.exception("historian write failed; retrying in %.1f s", delay)
                if self._stopping and attempts >= 5:  # shutting down with the database still away: give up
                    log.error("historian: %d rows lost at shutdown", len(rows))
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return True

    async def _every(self, period: float, fn) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("gateway task %s failed", getattr(fn, "__name__", fn))

    async def check_stale(self) -> None:
        limits = {}
        for runner in self.runners.values():
            driver = getattr(runner, "driver", None)
            if getattr(driver, "report_by_exception", False) and getattr(runner, "connected", False):
                continue  # quiet is not stale: the driver marks its tags when the link or the source dies
            c = runner.config
            limit = c.poll_interval_s * c.stale_after_intervals
            for t in c.tags:
                limits[t.key] = limit
        keys = self.store.stale_keys(limits, time.time())
        if keys:
            ts = now()
            await self.publish_marks([Sample(k, ts, self.store.get(k)[0], STALE) for k in keys])

    async def flush_current(self) -> None:
        rows = self.store.take_dirty()
        if rows:
            await self.db_call(persist, rows)

    async def poll_writes(self) -> None:
        from scada.models import WriteCommand

        def pending():
            return list(WriteCommand.objects.filter(status="PENDING").select_related("tag")
                        .order_by("created_at")[:100])

        for command in await self.db_call(pending):
            if command.pk in self._inflight_writes:
                continue
            age = time.time() - command.created_at.timestamp()
            runner = self.runners.get(str(command.tag.device_id))
            tag = self.tags_by_key.get(command.tag.key)
            reason = None
            if age > self.write_expiry_s:
                reason = f"expired after {int(age)} s without being sent"
            elif runner is None or tag is None:
                reason = "the device or tag is not running in the gateway"
            elif not runner.connected:
                reason = "device not connected"
            else:
                reason = command.tag.check_range(command.value)
            self._inflight_writes.add(command.pk)
            if reason:
                await self.finish_write(command.pk, False, reason)
            else:
                runner.queue_write(command.pk, tag, command.value)

    async def finish_write(self, command_id, ok: bool, reason: str) -> None:
        from scada.models import WriteCommand
        from scada.services import complete_write

        def done():
            try:
                complete_write(WriteCommand(pk=command_id), ok, reason)
            except Exception:  # noqa: BLE001  (already completed elsewhere)
                log.exception("completing write %s", command_id)

        await self.db_call(done)
        self._inflight_writes.discard(command_id)
        if not ok:
            log.warning("write %s failed: %s", command_id, reason)

    async def maintain(self) -> None:
        await self.db_call(historian.maintain)

    # -- lifecycle ------------------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.maintain()
        except Exception:  # noqa: BLE001
            log.exception("historian maintenance failed")
        await self.reload_if_changed()
        writer = asyncio.create_task(self._writer(), name="historian-writer")
        background = [
            asyncio.create_task(self._every(self.reload_s, self.reload_if_changed), name="config-reload"),
            asyncio.create_task(self._every(self.stale_check_s, self.check_stale), name="stale"),
            asyncio.create_task(self._every(self.write_poll_s, self.poll_writes), name="writes"),
            asyncio.create_task(self._every(1.0, self.flush_current), name="current-values"),
            asyncio.create_task(self._every(3600.0, self.maintain), name="maintenance"),
        ]
        self.ready.set()
        log.info("gateway running: %d devices", len(self.runners))
        try:
            await stop.wait()
        finally:
            await self.shutdown(writer, background)

    async def shutdown(self, writer: asyncio.Task, background: list[asyncio.Task]) -> None:
        """Stop the devices, then write everything still queued and the current values (SIGTERM path)."""
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for runner in list(self.runners.values()):
            await runner.stop()
        self._stopping = True
        await writer
        try:
            await self.flush_current()
        except Exception:  # noqa: BLE001
            log.exception("current values not saved at shutdown")

        def close():
            from django.db import connection

            connection.close()

        await self.db_call(close)
        self.db.shutdown(wait=True)
        log.info("gateway stopped: %d samples published, %d historian rows", self.stats.published,
                 self.stats.recorded)
