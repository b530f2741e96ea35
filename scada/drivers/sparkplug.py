"""Sparkplug B host side for one edge node: births, aliases, sequence numbers, deaths and rebirth requests.

Topics: ``spBv1.0/<group_id>/<NBIRTH|NDATA|NDEATH|DBIRTH|DDATA|DDEATH|NCMD|DCMD>/<edge_node_id>[/<device_id>]``.
Payloads are the Sparkplug B protobuf (``sparkplug_b.proto``, generated ``sparkplug_b_pb2``).

Tag mapping (``KeyAddress.key``): ``<metric name>`` for a metric of the edge node itself (NBIRTH/NDATA),
``<device_id>/<metric name>`` for a metric of one of its devices (DBIRTH/DDATA). Birth metrics without a tag are
ignored (a birth describes everything the node has; the site configures the tags it wants).

- NBIRTH resets the node: aliases, ``bdSeq``, sequence (``seq`` of the birth). DBIRTH defines one device. Birth values
  are samples like data values.
- NDATA/DDATA: metrics by alias (or by name); ``seq`` must follow the previous message (0-255 wrap), else the values
  are kept and a rebirth is requested (a gap means messages were lost: the rebirth gives every current value again).
  Data before any birth (the gateway started after the node's birth) cannot be resolved: it is dropped and a
  rebirth is requested.
- NDEATH (the node's MQTT will; honoured only when its ``bdSeq`` is the one of the current birth) turns every tag of
  the node and its devices Stale; DDEATH the tags of that device.
- ``is_historical`` (a value the edge node stored while it could not publish, forwarded later): a sample flagged
  ``historical``, which the gateway sends to the historian only (not the current value, alarms or live HMI), and
  which is not the value a later death marks Stale.
- Quality: ``is_null`` -> Bad; a metric property ``Quality`` (OPC quality code, as Ignition sends) >= 192 Good,
  64-191 Uncertain, below 64 Bad; otherwise Good.
- Unknown alias / metric not in the birth / unsupported data type (String, DataSet, Template...) of a mapped
  metric: a dead letter (source ``sparkplug``); the other metrics of the message are kept.
- Rebirth request: NCMD ``Node Control/Rebirth`` = true, at most one every ``REBIRTH_MIN_INTERVAL_S``.
"""

from __future__ import annotations

import time

from google.protobuf.message import DecodeError

from scada.drivers import sparkplug_b_pb2 as pb
from scada.runtime.samples import BAD, GOOD, STALE, UNCERTAIN, Sample

NAMESPACE = "spBv1.0"
REBIRTH_MIN_INTERVAL_S = 5.0
REBIRTH_METRIC = "Node Control/Rebirth"
DT = pb.DataType
_SIGNED32 = {DT.Int8: 8, DT.Int16: 16, DT.Int32: 32}
_NUMERIC = {"int_value", "long_value", "float_value", "double_value", "boolean_value"}


def metric_value(metric, datatype: int):
    """(value, quality) of a metric, or raise ValueError for a type that is not a process value."""
    if metric.is_null:
        return None, BAD
    field = metric.WhichOneof("value")
    if field not in _NUMERIC:
        name = DT.Name(datatype) if datatype in DT.values() else str(datatype)
        raise ValueError(f"unsupported data type {name}")
    raw = getattr(metric, field)
    if field == "int_value":
        bits = _SIGNED32.get(datatype)
        if bits:  # two's complement in a uint32 (the specification) or in the type's own width (older Tahu)
            if raw >= 1 << 31:
                raw -= 1 << 32
            elif raw >= 1 << (bits - 1) and raw < 1 << bits:
                raw -= 1 << bits
    elif field == "long_value" and datatype == DT.Int64 and raw >= 1 << 63:
        raw -= 1 << 64
    quality = GOOD
    if metric.HasField("properties"):
        props = metric.properties
        for k, v in zip(props.keys, props.values, strict=False):
            if k == "Quality":
                code = v.int_value if v.WhichOneof("value") == "int_value" else v.long_value
                quality = GOOD if code >= 192 else UNCERTAIN if code >= 64 else BAD
    return float(raw), quality


def rebirth_payload(now_ms: int | None = None) -> bytes:
    payload = pb.Payload(timestamp=now_ms or int(time.time() * 1000))
    payload.metrics.add(name=REBIRTH_METRIC, datatype=DT.Boolean, boolean_value=True)
    return payload.SerializeToString()


class SparkplugNode:
    def __init__(self, group_id: str, edge_node_id: str, keys: dict[str, int]):
        self.group_id = group_id
        self.edge_node_id = edge_node_id
        self.keys = keys  # address key -> tag key
        self.ncmd_topic = f"{NAMESPACE}/{group_id}/NCMD/{edge_node_id}"
        self.last: dict[int, float | None] = {}
        self.rebirth_reason = ""
        self._rebirth_sent_at = -1e9
        self.rebirths_requested = 0
        self.dropped_before_birth = 0
        self.reset()

    def reset(self) -> None:
        """Forget the births (a new connection: wait for a birth, or ask for one)."""
        self.born = False
        self.bd_seq: int | None = None
        self.seq: int | None = None
        self.devices: set[str] = set()
        self.aliases: dict[tuple[str, int], tuple[str, int | None, int]] = {}  # (device, alias) -> (name, key, type)
        self.names: dict[tuple[str, str], tuple[int | None, int]] = {}  # (device, name) -> (key, type)
        self.rebirth_wanted = False

    # -- rebirth --------------------------------------------------------------------------------------------------
    def want_rebirth(self, reason: str) -> None:
        if not self.rebirth_wanted:
            self.rebirth_reason = reason
        self.rebirth_wanted = True

    def take_rebirth_request(self, now: float) -> tuple[str, bytes] | None:
        if not self.rebirth_wanted or now - self._rebirth_sent_at < REBIRTH_MIN_INTERVAL_S:
            return None
        self.rebirth_wanted = False
        self._rebirth_sent_at = now
        self.rebirths_requested += 1
        return self.ncmd_topic, rebirth_payload()

    # -- messages -------------------------------------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes, received: float) -> tuple[list[Sample], list[tuple]]:
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != NAMESPACE or parts[1] != self.group_id or parts[3] != self.edge_node_id:
            return [], [(None, "not a Sparkplug B topic of this edge node")]
        kind = parts[2]
        device = "/".join(parts[4:])
        if kind in ("NCMD", "DCMD"):
            return [], []  # commands to the node (our own rebirth requests): not data
        try:
            message = pb.Payload.FromString(payload)
        except DecodeError as exc:
            return [], [(None, f"malformed Sparkplug B payload ({kind}): {exc}")]
        base_ts = message.timestamp / 1000.0 if message.HasField("timestamp") else received
        if kind == "NDEATH":
            return self._death(message, base_ts)
        if kind == "NBIRTH":
            self.reset()
            self.born = True
            self.seq = message.seq
            for metric in message.metrics:
                if metric.name == "bdSeq":
                    self.bd_seq = int(metric.long_value or metric.int_value)
            return self._values(message, "", base_ts, birth=True)
        if not self.born:
            self.dropped_before_birth += len(message.metrics)
            self.want_rebirth(f"{kind} before NBIRTH")
            return [], []
        self._check_seq(message, kind)
        if kind == "DBIRTH":
            if not device:
                return [], [(None, "DBIRTH without a device id")]
            self.devices.add(device)
            for key in [k for k in self.aliases if k[0] == device]:
                del self.aliases[key]
            for key in [k for k in self.names if k[0] == device]:
                del self.names[key]
            return self._values(message, device, base_ts, birth=True)
        if kind == "DDEATH":
            self.devices.discard(device)
            prefix = f"{device}/"
            keys = [k for name, k in self.keys.items() if name.startswith(prefix)]
            return [Sample(k, base_ts, self.last.get(k), STALE) for k in keys], []
        if kind == "NDATA":
            return self._values(message, "", base_ts, birth=False)
        if kind == "DDATA":
            if device not in self.devices:
                self.dropped_before_birth += len(message.metrics)
                self.want_rebirth(f"DDATA of {device} before its DBIRTH")
                return [], []
            return self._values(message, device, base_ts, birth=False)
        return [], [(None, f"unknown Sparkplug message type {kind}")]

    def _check_seq(self, message, kind: str) -> None:
        if not message.HasField("seq"):
            self.want_rebirth(f"{kind} without seq")
            return
        expected = (self.seq + 1) % 256 if self.seq is not None else message.seq
        if message.seq != expected:
            self.want_rebirth(f"sequence gap: {kind} seq {message.seq}, expected {expected}")
        self.seq = message.seq

    def _death(self, message, ts: float):
        bd_seq = None
        for metric in message.metrics:
            if metric.name == "bdSeq":
                bd_seq = int(metric.long_value or metric.int_value)
        if self.bd_seq is not None and bd_seq is not None and bd_seq != self.bd_seq:
            return [], []  # the will of an older session: the node is already born again
        self.born = False
        self.seq = None
        self.devices.clear()
        keys = list(self.keys.values())
        return [Sample(k, ts, self.last.get(k), STALE) for k in keys], []

    def _values(self, message, device: str, base_ts: float, birth: bool):
        samples: list[Sample] = []
        errors: list[tuple] = []
        prefix = f"{device}/" if device else ""
        aliases, names, keys, last = self.aliases, self.names, self.keys, self.last
        for metric in message.metrics:
            if birth:
                name = metric.name
                if not name:
                    errors.append((_describe(metric), "birth metric without a name"))
                    continue
                key = keys.get(prefix + name)
                datatype = metric.datatype
                names[(device, name)] = (key, datatype)
                if metric.HasField("alias"):
                    aliases[(device, metric.alias)] = (name, key, datatype)
            else:
                if metric.HasField("alias") and not metric.name:
                    known = aliases.get((device, metric.alias))
                    if known is None:
                        errors.append((_describe(metric), f"unknown alias {metric.alias} (not in the birth)"))
                        self.want_rebirth(f"unknown alias {metric.alias}")
                        continue
                    name, key, datatype = known
                else:
                    name = metric.name
                    known = names.get((device, name))
                    if known is None:
                        errors.append((_describe(metric), f"metric {prefix}{name!r} is not in the birth"))
                        continue
                    key, datatype = known
            if key is None:
                continue  # a metric of the node that no tag reads
            try:
                value, quality = metric_value(metric, metric.datatype or datatype)
            except ValueError as exc:
                errors.append((_describe(metric), f"{prefix}{name}: {exc}"))
                continue
            ts = metric.timestamp / 1000.0 if metric.HasField("timestamp") else base_ts
            if metric.is_historical:
                samples.append(Sample(key, ts, value, quality, True))
                continue
            last[key] = value
            samples.append(Sample(key, ts, value, quality))
        return samples, errors


def _describe(metric) -> dict:
    """A dead letter's payload for one metric (JSON-ready)."""
    field = metric.WhichOneof("value")
    value = getattr(metric, field) if field else None
    if isinstance(value, bytes):
        value = value[:64].hex()
    return {"name": metric.name, "alias": metric.alias if metric.HasField("alias") else None,
            "datatype": metric.datatype, "value": value}
