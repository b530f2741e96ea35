"""OPC-UA client driver (asyncua): one subscription per device, one monitored item per tag, values pushed in batches.

- ``connect()`` opens the session (endpoint, security mode/policy with the client certificate, user name/password,
  request timeout), creates ONE subscription whose publishing interval is the device poll interval and whose
  keep-alive is ``keepalive_s``, and creates every tag's monitored item in ONE CreateMonitoredItems call: sampling
  interval (``sampling_interval_ms`` or the poll interval), queue size, and an absolute-deadband DataChangeFilter
  when the tag has a deadband (TagConfig.deadband, engineering units; 0 = every change).
- Each notification message of the subscription becomes one ``publish(samples)`` batch. The publish callback is
  awaited by asyncua's publish loop, so a full gateway queue holds the next Publish request back (back-pressure, and
  the message is acknowledged to the server only after its samples are queued).
- Quality from the StatusCode severity: Good -> Good, Uncertain -> Uncertain (value kept), Bad -> Bad with no value.
  Timestamps: SourceTimestamp, else ServerTimestamp, else now. Bools -> 0.0/1.0; a value that is not a number (a
  string, an array, a structure) is not stored: the tag gets a Bad sample and the reason is logged once per tag.
- A node that the server rejects (BadNodeIdUnknown, BadAttributeIdInvalid, ...) turns that tag Bad with a log line;
  the other tags keep running. Retried at the next reconnect.
- Connection loss (the client's ServerStatus watchdog, a BadShutdown/BadTimeout status-change notification, or no
  publish response nor keep-alive for 3 keep-alive periods) raises ``ConnectionError`` out of ``run()``: the
  gateway's DeviceRunner marks every tag Bad, closes, and reconnects with backoff; ``connect()`` then creates a new
  session and subscription (asyncua's own auto-reconnect is off: one reconnect policy, the gateway's).
- ``write(tag, value)`` writes the engineering value (inverse scaling if the tag is scaled) with the node's own
  variant type (its DataType attribute, read once and cached) and raises ``WriteError`` with the server's status
  (e.g. ``BadNotWritable``) on failure.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import struct
import time
from datetime import UTC, datetime

from asyncua import Client, ua
from asyncua.common.subscription import Subscription
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from scada.choices import Scaling
from scada.drivers.base import Driver, WriteError
from scada.runtime.config import TagConfig
from scada.runtime.samples import BAD, GOOD, UNCERTAIN, Sample, now
from scada.scaling import to_engineering, to_raw

log = logging.getLogger("scada.opcua")
if logging.getLogger("asyncua").level == logging.NOTSET:  # asyncua logs every request at INFO: keep warnings only
    logging.getLogger("asyncua").setLevel(logging.WARNING)

_INTEGER_TYPES = {
    ua.VariantType.SByte, ua.VariantType.Byte, ua.VariantType.Int16, ua.VariantType.UInt16, ua.VariantType.Int32,
    ua.VariantType.UInt32, ua.VariantType.Int64, ua.VariantType.UInt64,
}
_FLOAT_TYPES = {ua.VariantType.Float, ua.VariantType.Double}
_LOST_STATUSES = {"BadShutdown", "BadTimeout", "BadServerHalted", "BadSessionClosed", "BadNoCommunication",
                  "BadConnectionClosed", "BadSecureChannelClosed", "BadCommunicationError"}


def quality_of(status: ua.StatusCode | None) -> int:
    """OPC-UA StatusCode severity (the top two bits) -> Quality."""
    if status is None or status.is_good():
        return GOOD
    if status.is_uncertain():
        return UNCERTAIN
    return BAD


def epoch(dt: datetime | None) -> float | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # OPC-UA DateTime is UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def status_text(code) -> str:
    status = code if isinstance(code, ua.StatusCode) else ua.StatusCode(int(code))
    return f"{status.name}: {status.doc}" if status.doc else status.name


class _BatchSubscription(Subscription):
    """A subscription that hands each whole notification message to the driver (one batch per message) instead of
    exploding it into one event object per value."""

    def __init__(self, session, params: ua.CreateSubscriptionParameters, driver: OpcUaDriver):
        super().__init__(session, params, handler=driver)
        self._driver = driver

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        self.last_publish_at = time.monotonic()
        message = publish_result.NotificationMessage
        if message.NotificationData is None:  # keep-alive
            return
        self.last_sequence_number = int(message.SequenceNumber)
        await self._driver._on_message(message)


class OpcUaDriver(Driver):
    polled = False
    report_by_exception = True  # a subscription sends changes only; the session keep-alive proves the link

    def __init__(self, device, publish=None):
        super().__init__(device, publish)
        self.settings = device.settings
        self.client: Client | None = None
        self.subscription: _BatchSubscription | None = None
        self.handles: dict[int, TagConfig] = {}  # monitored item client handle -> tag
        self.failed: dict[int, str] = {}  # tag key -> why its monitored item was refused
        self._variant_types: dict[str, ua.VariantType] = {}  # node id -> the node's variant type (writes)
        self._lost: asyncio.Event | None = None
        self._lost_reason = ""
        self._rejected: set[int] = set()  # tag keys whose non-numeric value was already logged
        self.messages = 0  # notification messages received (bench, tests)
        self.values = 0  # values received

    # -- connection ---------------------------------------------------------------------------------------------
    @property
    def publishing_ms(self) -> float:
        return max(self.device.poll_interval_s * 1000.0, 10.0)

    async def connect(self) -> None:
        s = self.settings
        self._lost = asyncio.Event()
        self._lost_reason = ""
        client = Client(s["endpoint"], timeout=s.get("timeout_s", 4.0), watchdog_intervall=s.get("watchdog_s", 1.0))
        client.name = client.description = f"Wellsite Edge gateway ({self.device.name})"
        client.application_uri = "urn:wellsite-edge:gateway"
        client.session_timeout = max(30_000, int(s.get("keepalive_s", 5.0) * 6000))
        if s.get("username"):
            client.set_user(s["username"])
            client.set_password(os.environ.get(s["password_env"], "") if s.get("password_env")
                                else s.get("password") or "")
        if s.get("security_mode", "None") != "None":
            await client.set_security_string(",".join((
                s["security_policy"].replace("_", ""), s["security_mode"], s["certificate_path"],
                s["private_key_path"])))
        client.connection_lost_callback = self._connection_lost
        self.client = client
        try:
            await asyncio.wait_for(client.connect(auto_reconnect=False), timeout=s.get("timeout_s", 4.0) * 2)
            await self._subscribe()
        except BaseException:
            await self.close()
            raise

    async def _subscribe(self) -> None:
        s = self.settings
        publishing = self.publishing_ms
        keepalive_count = max(1, math.ceil(s.get("keepalive_s", 5.0) * 1000.0 / publishing))
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=publishing, RequestedLifetimeCount=keepalive_count * 10,
            RequestedMaxKeepAliveCount=keepalive_count, MaxNotificationsPerPublish=0, PublishingEnabled=True,
            Priority=0)
        self.subscription = _BatchSubscription(self.client.uaclient.session, params, self)
        await self.subscription.init()
        self.handles.clear()
        self.failed.clear()
        sampling = s.get("sampling_interval_ms")
        sampling = float(publishing if sampling is None else sampling)
        requests, tags = [], []
        for handle, tag in enumerate(self.device.tags, start=1):
            node_id = tag.address.get("node_id", "")
            try:
                nodeid = ua.NodeId.from_string(node_id)
            except (ValueError, UaError) as exc:
                self.failed[tag.key] = f"invalid node id {node_id!r}: {exc}"
                continue
            item = ua.ReadValueId(NodeId=nodeid, AttributeId=ua.AttributeIds.Value)
            params = ua.MonitoringParameters(ClientHandle=handle, SamplingInterval=sampling,
                                             QueueSize=int(s.get("queue_size", 10)), DiscardOldest=True)
            if tag.deadband and tag.deadband > 0:
                params.Filter = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValue,
                                                    DeadbandType=ua.DeadbandType.Absolute,
                                                    DeadbandValue=float(tag.deadband))
            requests.append(ua.MonitoredItemCreateRequest(
                ItemToMonitor=item, MonitoringMode=ua.MonitoringMode.Reporting, RequestedParameters=params))
            tags.append(tag)
            self.handles[handle] = tag
        self.subscription._client_handle = len(self.device.tags) + 1
        results = await self.subscription.create_monitored_items(requests) if requests else []
        for tag, result in zip(tags, results, strict=True):
            if isinstance(result, ua.StatusCode):
                self.failed[tag.key] = status_text(result)
        for handle, tag in list(self.handles.items()):
            if tag.key in self.failed:
                del self.handles[handle]
        if self.failed:
            for key, reason in self.failed.items():
                log.warning("device %s tag %s: not monitored: %s", self.device.name, self.tags[key].name, reason)
            ts = now()
            await self.publish([Sample(key, ts, None, BAD) for key in self.failed])
        log.info("device %s: subscription %s, %d monitored items (%d refused), publishing %.0f ms",
                 self.device.name, self.subscription.subscription_id, len(self.handles), len(self.failed), publishing)

    async def _connection_lost(self, exc: Exception) -> None:
        self._mark_lost(f"connection lost: {exc!r}")

    def _mark_lost(self, reason: str) -> None:
        if self._lost is not None and not self._lost.is_set():
            self._lost_reason = reason
            self._lost.set()

    async def run(self) -> None:
        """Wait until the connection is lost, then raise (the DeviceRunner marks the tags Bad and reconnects)."""
        keepalive = self.settings.get("keepalive_s", 5.0)
        period = min(keepalive, 1.0)
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), period)
            except TimeoutError:
                pass
            if self._lost.is_set():
                raise ConnectionError(self._lost_reason)
            last = self.subscription.last_publish_at if self.subscription else None
            silent = time.monotonic() - last if last is not None else 0.0
            if silent > 3 * keepalive + self.publishing_ms / 1000.0:
                raise ConnectionError(f"no publish response or keep-alive for {silent:.1f} s")

    async def close(self) -> None:
        client, self.client = self.client, None
        self.subscription = None
        if client is None:
            return
        try:
            await asyncio.wait_for(client.disconnect(), timeout=2.0)
        except Exception:  # noqa: BLE001  (the server is gone: tear the transport down anyway)
            log.debug("device %s: disconnect", self.device.name, exc_info=True)
            try:
                client.disconnect_socket()
            except Exception:  # noqa: BLE001
                log.debug("device %s: socket close", self.device.name, exc_info=True)

    # -- values -------------------------------------------------------------------------------------------------
    async def _on_message(self, message: ua.NotificationMessage) -> None:
        samples: list[Sample] = []
        for data in message.NotificationData:
            if isinstance(data, ua.DataChangeNotification):
                for item in data.MonitoredItems:
                    tag = self.handles.get(item.ClientHandle)
                    if tag is not None:
                        samples.append(self._sample(tag, item.Value))
            elif isinstance(data, ua.StatusChangeNotification):
                status = data.Status
                log.warning("device %s: subscription status %s", self.device.name, status_text(status))
                if status.is_bad():
                    self._mark_lost(f"subscription status {status.name}")
        self.messages += 1
        self.values += len(samples)
        if samples:
            await self.publish(samples)

    def _sample(self, tag: TagConfig, dv: ua.DataValue | None) -> Sample:
        if dv is None:
            return Sample(tag.key, now(), None, BAD)
        ts = epoch(dv.SourceTimestamp) or epoch(dv.ServerTimestamp) or now()
        quality = quality_of(dv.StatusCode)
        if quality == BAD:
            return Sample(tag.key, ts, None, BAD)
        raw = dv.Value.Value if dv.Value is not None else None
        if isinstance(raw, bool):
            raw = 1.0 if raw else 0.0
        elif not isinstance(raw, int | float):
            if tag.key not in self._rejected:
                self._rejected.add(tag.key)
                log.warning("device %s tag %s: %s value %r is not a number: not stored", self.device.name,
                            tag.name, type(raw).__name__, raw if not isinstance(raw, str) else raw[:80])
            return Sample(tag.key, ts, None, BAD)
        if tag.scaling == Scaling.NONE:
            value, scaled_quality = float(raw), GOOD
            if not math.isfinite(value):
                return Sample(tag.key, ts, None, BAD)
        else:
            value, scaled_quality = to_engineering(tag, float(raw))
            if scaled_quality == BAD:
                return Sample(tag.key, ts, None, BAD)
        return Sample(tag.key, ts, value, quality)

    # -- writes -------------------------------------------------------------------------------------------------
    async def write(self, tag: TagConfig, value: float) -> None:
        if self.client is None:
            raise WriteError("device not connected")
        node_id = tag.address.get("node_id", "")
        node = self.client.get_node(node_id)
        try:
            vtype = self._variant_types.get(node_id)
            if vtype is None:
                vtype = self._variant_types[node_id] = await node.read_data_type_as_variant_type()
            raw = to_raw(tag, value) if tag.scaling != Scaling.NONE else value
            if vtype == ua.VariantType.Boolean:
                payload = bool(raw)
            elif vtype in _INTEGER_TYPES:
                payload = int(round(raw))
            elif vtype in _FLOAT_TYPES:
                payload = float(raw)
            else:
                raise WriteError(f"node {node_id} holds {vtype.name} values: not a numeric setpoint")
            # no timestamps in the write: many servers refuse a client-set SourceTimestamp (BadWriteNotSupported)
            await node.write_attribute(ua.AttributeIds.Value, ua.DataValue(ua.Variant(payload, vtype)))
        except UaStatusCodeError as exc:
            raise WriteError(status_text(exc.code)) from exc
        except (OverflowError, ValueError, struct.error) as exc:
            raise WriteError(f"{value} does not fit the node's type: {exc}") from exc
        except (TimeoutError, ConnectionError, OSError) as exc:
            raise WriteError(f"write not confirmed: {exc!r}") from exc
