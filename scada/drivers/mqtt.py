"""MQTT driver: JSON payloads under a topic prefix, or one Sparkplug B edge node (docs/mqtt.md).

A push driver (``polled = False``) on paho-mqtt 2.x, MQTT 5, QoS 1, with a persistent session: a fixed client id,
``clean_start`` off and a session expiry, so the broker keeps queueing while the gateway is away.

Acknowledgement after commit. The client is created with ``manual_ack=True``: a message is acknowledged (PUBACK)
only from the ``on_commit`` callback of the ``publish()`` that carried its samples, i.e. once they are in the
historian. A gateway killed before that leaves the message unacknowledged and the broker redelivers it.

No duplicate rows on redelivery. A message the broker sends again carries the DUP flag (MQTT 5 §3.3.1.1; Mosquitto
sets it on every resend of an in-flight message). Only a message that was sent before can have been committed, so
only the samples of DUP messages are checked against the historian (``historian.existing``: one indexed query per
batch) and those already stored are dropped; normal traffic pays nothing. Before (re)connecting, the driver waits
until everything published so far is committed, so the check never races with rows still in the queue. That wait is
bounded (``MQTT_COMMIT_WAIT_S``): with the database down the historian cannot commit, so ``connect()`` gives up with a
``ConnectionError`` (counted in ``commit_wait_timeouts``) and the DeviceRunner retries with backoff; the broker keeps
the messages (none was acknowledged) until the database is back.

Network I/O runs in the gateway's event loop (paho's external-loop callbacks: the socket is registered with
``add_reader``/``add_writer`` and ``loop_misc`` runs every second), so ``client.ack`` is called from the thread that
owns the client and no lock is shared with a network thread. paho reads a packet header byte by byte (three or more
``recv`` calls per message); ``_BufferedClient`` serves those reads from one large ``recv``, and the reader drains
every complete packet in the buffer per wake-up.

Old values are history. A JSON value stamped more than ``SCADA_LIVE_MAX_AGE_S`` from now (a device flushing its
buffer after an outage), or older than the tag's newest live value, is flagged ``historical``
(``scada.runtime.samples.mark_historical``): it is stored but does not change the current value, raise or clear an
alarm, or reach the HMI stream. A value without ``ts`` is stamped with its receive time, so it is always live.
Sparkplug B metrics are historical only when flagged ``is_historical``.

Malformed payloads, unknown tags and wrong types go to the dead-letter table (source ``mqtt`` or ``sparkplug``, in
one bulk insert per batch in the gateway's database thread), are counted in ``wellsite_dead_letters`` and are
acknowledged with the batch; the valid samples of the same message are kept. When the dead letters cannot be written
(database down) only the messages that carry them are held back, unacknowledged: the other messages of the batch are
acknowledged as usual, and the write is retried with a later batch (or after a backoff when none comes) until it
succeeds, the held messages being acknowledged with that batch's commit; a reconnect drops what is held (the broker
redelivers it). A row the database refuses (not a lost connection: ``DataError``/``IntegrityError``) is logged at
ERROR with its payload, counted in ``dead_letters_refused`` and acknowledged, so one unstorable message never blocks
the session. Rows are built by ``DeadLetter.build`` (a binary payload's NUL bytes, which PostgreSQL text cannot
hold, become U+FFFD there).

Broker loss: ``run()`` raises ``ConnectionError``; the DeviceRunner marks the tags Bad and reconnects with backoff
(the same as a Modbus RTU that stops answering).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import ssl
import struct
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from scada import historian
from scada.drivers.base import Driver
from scada.runtime.samples import BAD, GOOD, STALE, UNCERTAIN, Sample, mark_historical

log = logging.getLogger("scada.mqtt")

QUALITY = {"GOOD": GOOD, "UNCERTAIN": UNCERTAIN, "BAD": BAD, "STALE": STALE}
_QUALITY_INT = {GOOD: GOOD, UNCERTAIN: UNCERTAIN, BAD: BAD, STALE: STALE}
READ_CHUNK = 256 * 1024
BURST = 20_000  # packets handled per reader wake-up before yielding to the event loop
COMMIT_WAIT_S = 30.0  # default of settings.MQTT_COMMIT_WAIT_S: the pre-connect wait for the historian commit
DEAD_RETRY_S = 0.5  # first retry of dead letters the database did not take; doubles up to DEAD_RETRY_MAX_S
DEAD_RETRY_MAX_S = 10.0


class Received:
    """A received PUBLISH: what the driver needs, without paho's per-message objects (see ``_BufferedClient``)."""

    __slots__ = ("_topic", "payload", "mid", "qos", "dup", "retain")

    def __init__(self, topic: bytes, payload: bytes, mid: int, qos: int, dup: bool, retain: bool):
        self._topic, self.payload, self.mid, self.qos, self.dup, self.retain = topic, payload, mid, qos, dup, retain

    @property
    def topic(self) -> str:
        return self._topic.decode("utf-8", "replace")


class _BufferedClient(mqtt.Client):
    """paho's client with two hot paths replaced (paho 2.2 internals; the version is pinned):

    - reads: paho reads each packet header byte by byte (three or more ``recv`` calls a message); ``_sock_recv``
      serves those reads from one 256 KiB ``recv``;
    - QoS 0/1 PUBLISH: paho builds an MQTT 5 ``Properties`` object (whose constructor fills two dictionaries), an
      ``MQTTMessage`` and an ``MQTTMessageInfo`` with a ``threading.Condition`` for every message received - about
      two thirds of the gateway's CPU at 5,000 single-value messages/s. ``_handle_publish`` decodes the fixed and
      variable header with ``struct`` into a ``Received`` and hands it to ``on_received``; properties are parsed
      (by paho) only when a message has some. QoS 2 goes through paho unchanged.
    - ``ack_many(mids)`` queues all PUBACKs of a commit as one write instead of one packet (and one send) each.
    """

    _rbuf = b""
    _rpos = 0
    on_received = None

    def _sock_recv(self, bufsize: int) -> bytes:
        buf, pos = self._rbuf, self._rpos
        if pos >= len(buf):
            buf = super()._sock_recv(READ_CHUNK)  # BlockingIOError when nothing is there: paho handles it
            if not buf:
                return buf
            self._rbuf, pos = buf, 0
        end = pos + bufsize
        self._rpos = end
        return buf[pos:end]

    def buffered(self) -> bool:
        if self._rpos < len(self._rbuf):
            return True
        sock = self._sock
        return isinstance(sock, ssl.SSLSocket) and sock.pending() > 0

    def _handle_publish(self) -> MQTTErrorCode:
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if qos == 2 or self.on_received is None:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        try:
            (tlen,) = _U16.unpack_from(packet, 0)
            pos = 2 + tlen
            topic = packet[2:pos]
            mid = 0
            if qos:
                (mid,) = _U16.unpack_from(packet, pos)
                pos += 2
            if self._protocol == mqtt.MQTTv5:
                if packet[pos] == 0:  # no properties (the usual case)
                    pos += 1
                else:
                    _props, used = Properties(PacketTypes.PUBLISH).unpack(packet[pos:])
                    pos += used
        except (struct.error, IndexError):
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        self.on_received(Received(topic, packet[pos:], mid, qos, bool(header & 0x08), bool(header & 0x01)))
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids) -> None:
        if not mids or self._sock is None:
            return
        pack = _PUBACK.pack
        blob = b"".join([pack(0x40, 2, mid) for mid in mids])
        self._packet_queue(0x40, blob, 0, 1)


_U16 = struct.Struct("!H")
_PUBACK = struct.Struct("!BBH")


# -- JSON payloads ---------------------------------------------------------------------------------------------------
class PayloadError(ValueError):
    pass


def parse_ts(raw, default: float) -> float:
    """ISO-8601 text (no offset = UTC) or epoch milliseconds -> epoch seconds; missing -> ``default``."""
    if raw is None:
        return default
    kind = type(raw)
    if kind is int or kind is float:
        return raw / 1000.0
    if kind is str:
        try:
            dt = datetime.fromisoformat(raw)
        except ValueError:
            raise PayloadError(f"bad timestamp {raw!r}: ISO-8601 or epoch milliseconds") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    raise PayloadError(f"bad timestamp {raw!r}: ISO-8601 or epoch milliseconds")


def parse_quality(raw) -> int:
    if raw is None:
        return GOOD
    if type(raw) is str:
        quality = QUALITY.get(raw.upper())
    elif type(raw) is int:
        quality = _QUALITY_INT.get(raw)
    else:
        quality = None
    if quality is None:
        raise PayloadError(f"bad quality {raw!r}: GOOD, UNCERTAIN, BAD, STALE or 0-3")
    return quality


def _value(name: str, raw, quality: int):
    kind = type(raw)
    if kind is float or kind is int:
        return float(raw)
    if kind is bool:
        return 1.0 if raw else 0.0
    if raw is None:
        if quality >= BAD:
            return None
        raise PayloadError(f"null value for {name!r} with quality Good/Uncertain (send quality BAD)")
    raise PayloadError(f"wrong type for {name!r}: expected a number or a boolean, got {kind.__name__}")


def decode_json(payload: bytes, keys: dict[str, int], received: float) -> tuple[list[Sample], list[tuple]]:
    """Samples of one JSON message and its errors ``[(item or None, reason), ...]``.

    Accepted: ``{"tag", "value", "ts"?, "quality"?}``, ``{"ts"?, "quality"?, "values": {tag: value, ...}}`` or a JSON
    array of either. ``keys`` maps a tag's address key to its historian key. An error rejects one value (or one item);
    the other values of the message are kept.
    """
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return [], [(None, f"malformed JSON: {exc}")]
    samples: list[Sample] = []
    errors: list[tuple] = []
    many = type(doc) is list
    for index, item in enumerate(doc if many else (doc,)):
        where = f"[{index}] " if many else ""
        if type(item) is not dict:
            errors.append((item, f"{where}expected an object with 'tag' and 'value', or 'values'"))
            continue
        try:
            ts = parse_ts(item.get("ts"), received)
            quality = parse_quality(item.get("quality"))
        except PayloadError as exc:
            errors.append((item, f"{where}{exc}"))
            continue
        values = item.get("values")
        if values is not None:
            if type(values) is not dict:
                errors.append((item, f"{where}'values' must be an object of tag: value"))
                continue
            append = samples.append
            for name, raw in values.items():
                key = keys.get(name)
                if key is None:
                    errors.append(({"tag": name, "value": raw}, f"{where}unknown tag {name!r}"))
                    continue
                kind = type(raw)
                if kind is float or kind is int:  # the hot path
                    append(Sample(key, ts, float(raw), quality))
                    continue
                try:
                    append(Sample(key, ts, _value(name, raw, quality), quality))
                except PayloadError as exc:
                    errors.append(({"tag": name, "value": raw}, f"{where}{exc}"))
            continue
        name = item.get("tag")
        if type(name) is not str or "value" not in item:
            errors.append((item, f"{where}expected 'tag' and 'value', or 'values'"))
            continue
        key = keys.get(name)
        if key is None:
            errors.append((item, f"{where}unknown tag {name!r}"))
            continue
        try:
            samples.append(Sample(key, ts, _value(name, item["value"], quality), quality))
        except PayloadError as exc:
            errors.append((item, f"{where}{exc}"))
    return samples, errors


# -- dead letters ----------------------------------------------------------------------------------------------------
def _dead_payload(payload):
    """The payload of a dead letter: the message's bytes as they came, a rejected item as JSON."""
    if isinstance(payload, bytes | bytearray | str):
        return payload
    if isinstance(payload, memoryview):
        return bytes(payload)
    try:
        return orjson.dumps(payload, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(payload)


def write_dead_letters(entries: list[tuple[str, str, object, str]]) -> list[tuple[tuple, str]]:
    """Insert ``(source, topic, payload, reason)`` rows (runs in the gateway's database thread).

    One statement for all of them. If the database refuses it for what is in a row (``DataError``,
    ``IntegrityError``), the rows are inserted one by one and the refused ones returned as ``[(entry, error)]``. A lost
    connection (or any other error) is raised: nothing was written, the caller retries."""
    from django.db import DataError, IntegrityError, transaction

    from scada.ingest.models import DeadLetter

    # DeadLetter.build: cut to size, NUL (which PostgreSQL text cannot hold) shown as U+FFFD, as for every source
    rows = [DeadLetter.build(source, topic, _dead_payload(payload), reason)
            for source, topic, payload, reason in entries]
    try:
        with transaction.atomic():
            DeadLetter.objects.bulk_create(rows)
        return []
    except (DataError, IntegrityError):
        pass
    refused = []
    for entry, row in zip(entries, rows, strict=True):
        try:
            with transaction.atomic():
                DeadLetter.objects.bulk_create([row])
        except (DataError, IntegrityError) as exc:
            refused.append((entry, f"{type(exc).__name__}: {exc}".strip()))
    return refused


def _count_dead(source: str, n: int) -> None:
    try:
        from apps.ops import metrics

        metrics.count_dead_letter(source, n)
    except Exception:  # noqa: BLE001  (metrics are best effort)
        log.debug("dead letter metric", exc_info=True)


def client_id_for(device_id: str) -> str:
    edge = re.sub(r"[^A-Za-z0-9_-]", "-", str(getattr(settings, "EDGE_ID", "edge")))
    return f"wellsite-{edge}-{device_id}"


class MqttDriver(Driver):
    polled = False

    def __init__(self, device, publish=None):
        super().__init__(device, publish)
        s = dict(device.settings or {})
        self.conf = s
        self.qos = int(s.get("qos", 1))
        self.sparkplug = bool(s.get("sparkplug"))
        self.report_by_exception = self.sparkplug  # Sparkplug: DATA by exception, NDEATH/DDEATH turn tags Stale
        self.source = "sparkplug" if self.sparkplug else "mqtt"
        self.keys = {t.address.get("key"): t.key for t in device.tags if t.address.get("key")}
        self.client: _BufferedClient | None = None
        self._gen = 0
        self._inbox: list = []
        self._wake: asyncio.Event | None = None
        self._lost: str | None = None
        self._misc: asyncio.TimerHandle | None = None
        self._sock = None
        self._connack: asyncio.Future | None = None
        self._suback: asyncio.Future | None = None
        self.duplicates_dropped = 0
        self.dead_letters = 0
        self.dead_letters_refused = 0  # rows the database refused: logged with their payload and acknowledged
        self.dead_letter_failures = 0  # dead-letter writes that failed (database away): retried
        self.commit_wait_timeouts = 0  # connects given up because the historian did not commit in time
        self._dead_pending: list[tuple[list, list[int]]] = []  # (dead letters, mids of their messages) to retry
        self._dead_retries = 0
        self._dead_retry_at = 0.0
        self._committed: asyncio.Future | None = None
        self.newest_live: dict[int, float] = {}  # JSON: tag key -> time of the newest value fed live
        self.node = None
        if self.sparkplug:
            from scada.drivers.sparkplug import SparkplugNode

            self.node = SparkplugNode(s["group_id"], s["edge_node_id"], self.keys)

    # -- plumbing -------------------------------------------------------------------------------------------------
    @property
    def _gateway(self):
        return getattr(self.publish, "__self__", None)

    async def _db(self, fn, *args):
        gateway = self._gateway
        if gateway is not None and hasattr(gateway, "db_call"):
            return await gateway.db_call(fn, *args)
        return await asyncio.to_thread(fn, *args)

    async def _settle(self) -> None:
        """Wait until every sample published so far (by any driver) is committed: a redelivered message is then
        either in the historian (found by the DUP check) or was never written.

        Bounded by ``MQTT_COMMIT_WAIT_S``: while the database is down nothing commits, so the wait ends in a
        ``ConnectionError`` (counted, logged by the DeviceRunner, which marks the tags Bad and retries with backoff).
        The broker keeps every message not acknowledged; the next attempt waits for the same commit marker (the samples
        of the previous connection are still the ones that matter), so attempts do not pile markers up."""
        done = self._committed
        if done is None or done.done():
            done = self._committed = asyncio.get_running_loop().create_future()
            await self.publish([], on_commit=lambda: done.done() or done.set_result(None))
        timeout = float(getattr(settings, "MQTT_COMMIT_WAIT_S", COMMIT_WAIT_S))
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            self.commit_wait_timeouts += 1
            raise ConnectionError(
                f"not reconnecting yet: the historian has not committed the samples of the previous connection within "
                f"{timeout:g} s (database down?); the broker keeps the unacknowledged messages "
                f"(attempt {self.commit_wait_timeouts})") from None
        self._committed = None

    def _broker(self) -> tuple[str, int, bool]:
        url = self.conf.get("broker_url") or getattr(settings, "MQTT_URL", None) or "mqtt://127.0.0.1:1883"
        parts = urlsplit(url)
        tls = parts.scheme in ("mqtts", "ssl")
        return parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883), tls

    def topics(self) -> list[str]:
        if self.sparkplug:
            return [f"spBv1.0/{self.conf['group_id']}/+/{self.conf['edge_node_id']}/#"]
        return [f"{self.conf['topic_prefix']}/#"]

    # -- connection -----------------------------------------------------------------------------------------------
    async def connect(self) -> None:
        await self._close_client()
        await self._settle()
        loop = asyncio.get_running_loop()
        self._gen += 1
        self._lost = None
        self._inbox = []
        self._dead_pending = []  # held messages of the previous connection: the broker redelivers them
        self._dead_retries = 0
        self._wake = asyncio.Event()
        host, port, tls = self._broker()
        client = _BufferedClient(CallbackAPIVersion.VERSION2, client_id=self.conf.get("client_id")
                                 or client_id_for(self.device.id), protocol=mqtt.MQTTv5,
                                 reconnect_on_failure=False, manual_ack=True)
        if self.conf.get("username"):
            password = os.environ.get(self.conf.get("password_env") or "", None)
            client.username_pw_set(self.conf["username"], password)
        if tls:
            client.tls_set(ca_certs=self.conf.get("ca_file") or None)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_received = self._on_received
        if self.node is not None:
            self.node.reset()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = int(self.conf.get("session_expiry_s", 7 * 86400))
        props.ReceiveMaximum = int(self.conf.get("receive_maximum", 20000))
        self._connack = loop.create_future()
        self._suback = loop.create_future()
        keepalive = int(self.conf.get("keepalive_s", 30))
        try:
            await asyncio.wait_for(loop.run_in_executor(None, lambda: client.connect(
                host, port, keepalive, clean_start=False, properties=props)), 10)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"broker {host}:{port}: {exc}") from exc
        self.client = client
        self._sock = client.socket()
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = lambda c, u, sock: loop.add_writer(sock, self._writable)
        client.on_socket_unregister_write = lambda c, u, sock: loop.remove_writer(sock)
        loop.add_reader(self._sock, self._readable)
        if client.want_write():
            loop.add_writer(self._sock, self._writable)
        self._misc = loop.call_later(1.0, self._tick)
        try:
            reason = await asyncio.wait_for(asyncio.shield(self._connack), 10)
            if reason.is_failure:
                raise ConnectionError(f"broker refused the connection: {reason}")
            options = SubscribeOptions(qos=self.qos, noLocal=True)
            client.subscribe([(topic, options) for topic in self.topics()])
            codes = await asyncio.wait_for(asyncio.shield(self._suback), 10)
            bad = [str(c) for c in codes if c.is_failure]
            if bad:
                raise ConnectionError(f"subscription refused: {', '.join(bad)}")
        except TimeoutError as exc:
            raise ConnectionError(f"broker {host}:{port} did not answer: {exc!r}") from exc
        if self._lost:
            raise ConnectionError(self._lost)
        log.info("device %s: subscribed to %s on %s:%s", self.device.name, self.topics(), host, port)

    # paho callbacks (all run in the event loop thread)
    def _on_connect(self, client, userdata, flags, reason, properties):
        if self._connack is not None and not self._connack.done():
            self._connack.set_result(reason)

    def _on_subscribe(self, client, userdata, mid, reasons, properties):
        if self._suback is not None and not self._suback.done():
            self._suback.set_result(reasons)

    def _on_disconnect(self, client, userdata, flags, reason, properties):
        if client is self.client:
            self._lost = f"broker connection lost: {reason}"
            if self._wake is not None:
                self._wake.set()
            for fut in (self._connack, self._suback):
                if fut is not None and not fut.done():
                    fut.set_exception(ConnectionError(self._lost))

    def _on_socket_close(self, client, userdata, sock):
        loop = asyncio.get_running_loop()
        loop.remove_reader(sock)
        loop.remove_writer(sock)

    def _on_message(self, client, userdata, message):  # QoS 2 / paho's own path
        self._inbox.append(message)

    def _on_received(self, message: Received) -> None:
        self._inbox.append(message)

    def _readable(self) -> None:
        client = self.client
        if client is None:
            return
        try:
            for _ in range(BURST):
                if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or not client.buffered():
                    break
        except Exception as exc:  # noqa: BLE001  (a bug or a protocol error must end the connection, not hang it)
            log.exception("device %s: reading from the broker", self.device.name)
            self._lost = f"broker connection failed: {exc!r}"
            self._wake.set()
            return
        if self._inbox:
            self._wake.set()

    def _writable(self) -> None:
        if self.client is not None:
            self.client.loop_write()

    def _tick(self) -> None:
        client = self.client
        if client is None:
            return
        client.loop_misc()
        if self.node is not None:
            self._send_rebirth_requests()
        self._misc = asyncio.get_running_loop().call_later(1.0, self._tick)

    def _acker(self, gen: int, mids: list[int]):
        def ack() -> None:
            client = self.client
            if gen != self._gen or client is None or self._lost:
                return  # that connection is gone: the broker redelivers those messages (DUP) to the next one
            client.ack_many(mids)
        return ack

    async def _close_client(self) -> None:
        client, self.client = self.client, None
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None
        if client is None:
            return
        sock = self._sock
        self._sock = None
        loop = asyncio.get_running_loop()
        if sock is not None:
            loop.remove_reader(sock)
            loop.remove_writer(sock)
        try:
            client.on_socket_register_write = None
            client.on_socket_unregister_write = None
            client.on_socket_close = None
            client.on_disconnect = None
            if client.is_connected():
                client.disconnect()  # MQTT DISCONNECT: the session (and the unacknowledged messages) stay
                client.loop_write()
        except Exception:  # noqa: BLE001
            log.debug("mqtt disconnect", exc_info=True)
        finally:
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass

    async def close(self) -> None:
        await self._close_client()

    # -- the message loop -----------------------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            if not self._inbox and not self._lost:
                self._wake.clear()
                if self._dead_pending:  # dead letters to retry even if no message comes
                    try:
                        await asyncio.wait_for(self._wake.wait(), max(0.0, self._dead_retry_at - time.monotonic()))
                    except TimeoutError:
                        pass
                else:
                    await self._wake.wait()
            if self._lost:
                raise ConnectionError(self._lost)
            messages, self._inbox = self._inbox, []
            await self.handle(messages, self._gen)

    async def handle(self, messages: list, gen: int) -> None:
        received = time.time()
        per_message: list[tuple[bool, list[Sample]]] = []
        dead: list[tuple] = []
        dead_mids: list[int] = []  # messages with dead letters: acknowledged only once those are written
        mids = [m.mid for m in messages if m.qos]
        any_dup = False
        if self.node is not None:
            for m in messages:
                samples, errors = self.node.handle(m.topic, m.payload, received)
                per_message.append((m.dup, samples))
                any_dup = any_dup or m.dup
                for item, reason in errors:
                    dead.append((self.source, m.topic, m.payload if item is None else item, reason))
                if errors and m.qos:
                    dead_mids.append(m.mid)
        else:
            keys = self.keys
            for m in messages:
                samples, errors = decode_json(m.payload, keys, received)
                per_message.append((m.dup, samples))
                any_dup = any_dup or m.dup
                if errors:
                    topic = m.topic
                    for item, reason in errors:
                        dead.append(("mqtt", topic, m.payload if item is None else item, reason))
                    if m.qos:
                        dead_mids.append(m.mid)
        if any_dup:
            candidates = [(s.key, s.ts) for dup, samples in per_message if dup for s in samples]
            found = await self._db(historian.existing, candidates) if candidates else set()
            out: list[Sample] = []
            micros = historian.micros
            for dup, samples in per_message:
                if dup and found:
                    kept = [s for s in samples if (s.key, micros(s.ts)) not in found]
                    self.duplicates_dropped += len(samples) - len(kept)
                    out += kept
                else:
                    out += samples
            log.info("device %s: %d redelivered message(s) (DUP), %d of their samples already in the historian",
                     self.device.name, sum(1 for dup, _s in per_message if dup), len(found))
        elif len(per_message) == 1:
            out = per_message[0][1]
        else:
            out = [s for _dup, samples in per_message for s in samples]
        if self.node is None and out:
            # JSON values carry the device's own time: a buffer flushed after an outage is history (historian only).
            # Sparkplug flags that itself (is_historical); its births carry the current state with older timestamps.
            mark_historical(out, self.newest_live, received)
        if dead or self._dead_pending:
            mids = await self._dead_letters(dead, dead_mids, mids)
        await self.publish(out, on_commit=self._acker(gen, mids) if mids else None)
        if self.node is not None:
            self._send_rebirth_requests()

    async def _dead_letters(self, dead: list[tuple], dead_mids: list[int], mids: list[int]) -> list[int]:
        """Write this batch's dead letters with those still held; return the mids to acknowledge with this batch.

        Written: every mid of the batch and those held until now. Not written (the database is away): the messages
        that carry dead letters are held (not acknowledged, so not lost: a reconnect has the broker redeliver them),
        the rest of the batch is acknowledged as usual, and the write is retried with a later batch or, with no
        traffic, after a backoff (``run``). Rows the database refuses are logged with their payload and acknowledged
        (``write_dead_letters``): retrying them would hold their messages forever."""
        held = self._dead_pending
        groups = [*held, (dead, dead_mids)] if dead else held
        holding = set(dead_mids)
        not_held = [mid for mid in mids if mid not in holding] if holding else mids
        if held and time.monotonic() < self._dead_retry_at:  # failed a moment ago: wait for the retry
            self._dead_pending = groups
            return not_held
        entries = [entry for group, _mids in groups for entry in group]
        try:
            refused = await self._db(write_dead_letters, entries)
        except Exception:  # noqa: BLE001  (database away: hold those messages, retry)
            self.dead_letter_failures += 1
            self._dead_pending = groups
            delay = min(DEAD_RETRY_S * 2 ** min(self._dead_retries, 16), DEAD_RETRY_MAX_S)
            self._dead_retries += 1
            self._dead_retry_at = time.monotonic() + delay
            held_mids = sum(len(m) for _g, m in groups)
            if self._dead_retries == 1:
                log.exception("device %s: %d dead letter(s) not written; %d message(s) held unacknowledged, retry in "
                              "%g s", self.device.name, len(entries), held_mids, delay)
            else:
                log.warning("device %s: %d dead letter(s) still not written (attempt %d); %d message(s) held "
                            "unacknowledged, retry in %g s", self.device.name, len(entries), self._dead_retries,
                            held_mids, delay)
            return not_held
        self._dead_pending, self._dead_retries = [], 0
        refused_ids = {id(entry) for entry, _error in refused}
        stored = [entry for entry in entries if id(entry) not in refused_ids] if refused else entries
        if stored:
            self.dead_letters += len(stored)
            _count_dead(self.source, len(stored))
            log.warning("device %s: %d dead letter(s), e.g. %s", self.device.name, len(stored), stored[0][3])
        if held:
            log.info("device %s: held dead letters written, %d message(s) acknowledged", self.device.name,
                     sum(len(m) for _g, m in held))
        limit = getattr(settings, "DEAD_LETTER_MAX_BYTES", 4096)
        for (source, topic, payload, reason), error in refused:
            self.dead_letters_refused += 1
            log.error("device %s: the database refused a dead letter (%s); the message is acknowledged, its record is "
                      "this line: source=%s topic=%s reason=%s payload=%s", self.device.name, error, source, topic,
                      reason, ascii(payload)[:limit])
        return mids + [mid for _g, group_mids in held for mid in group_mids]

    # -- Sparkplug -----------------------------------------------------------------------------------------------
    def _send_rebirth_requests(self) -> None:
        node, client = self.node, self.client
        if node is None or client is None or self._lost:
            return
        request = node.take_rebirth_request(time.monotonic())
        if request is not None:
            topic, payload = request
            client.publish(topic, payload, qos=0)
            log.info("device %s: rebirth requested (%s)", self.device.name, node.rebirth_reason)
