"""MQTT field simulators: a JSON batch publisher and a Sparkplug B edge node, with faults on demand (docs/mqtt.md).

- ``JsonPublisher``: a tank battery / compressor controller that publishes ``{"ts", "values": {...}}`` batches under a
  topic prefix (QoS 1). Faults: ``disconnect()`` (drops the TCP connection without DISCONNECT), ``send_malformed()``.
- ``SparkplugEdgeNode``: an edge node with devices (downhole gauges of wells W01..W04): NBIRTH (with ``bdSeq`` and
  ``Node Control/Rebirth``), DBIRTH per device, NDATA/DDATA by alias with ``seq`` 0-255, NDEATH as the MQTT will, and
  a rebirth when it receives NCMD ``Node Control/Rebirth``. Faults: ``skip_seq()`` (a gap), ``die()`` (the broker
  publishes the will), ``send_malformed()``.
- ``seed_mqtt_demo(stdout)``: the demo's MQTT devices and tags (a JSON device for the PAD-A tank battery and
  compressor, a Sparkplug node for the W01..W04 downhole gauges).
- ``MqttField(devices)``: one publisher per configured MQTT device (what ``manage.py simulate_field`` runs).

The publishers run paho's network thread (``loop_start``); they are field equipment, not the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from scada.drivers import sparkplug_b_pb2 as pb

log = logging.getLogger("scada.simulator")

DEMO_BROKER_URL = "mqtt://127.0.0.1:1883"


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


class _Publisher:
    def __init__(self, url: str, client_id: str):
        self.url = url
        self.host, self.port = _host_port(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self._connected(rc)
        self.client.on_disconnect = lambda c, u, f, rc, p: self.connected.clear()

    def _connected(self, rc) -> None:
        if not rc.is_failure:
            self.connected.set()
            self.on_connect()

    def on_connect(self) -> None:
        pass

    def start(self, timeout: float = 10.0):
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            raise ConnectionError(f"simulator could not connect to {self.url}")
        return self

    def stop(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, qos: int = 1):
        return self.client.publish(topic, payload, qos=qos)

    def disconnect(self) -> None:
        """Fault: the TCP connection drops without an MQTT DISCONNECT (paho reconnects by itself)."""
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def wait_published(self, timeout: float = 30.0) -> None:
        """Wait until every QoS 1 message handed to paho has been acknowledged by the broker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.client._out_messages:  # paho 2.2: messages awaiting PUBACK
                return
            time.sleep(0.01)
        raise TimeoutError("broker did not acknowledge every message")


class JsonPublisher(_Publisher):
    """Publishes JSON batches ``{"ts": <epoch ms>, "values": {tag: value}}`` on ``<prefix>/<topic>``."""

    def __init__(self, url: str, prefix: str, tags: dict[str, tuple[float, float]], client_id: str = "sim-json"):
        super().__init__(url, client_id)
        self.prefix = prefix.rstrip("/")
        self.tags = tags  # name -> (mid value, amplitude)

    def values(self, t: float) -> dict[str, float]:
        return {name: round(mid + amp * math.sin(t / 30.0 + i) + random.uniform(-amp, amp) * 0.05, 3)
                for i, (name, (mid, amp)) in enumerate(self.tags.items())}

    def send_batch(self, t: float | None = None, topic: str = "batch"):
        t = time.time() if t is None else t
        body = {"ts": int(t * 1000), "values": self.values(t)}
        return self.publish(f"{self.prefix}/{topic}", orjson.dumps(body))

    def send_malformed(self, topic: str = "batch"):
        """Fault: a truncated JSON document (lands in the dead-letter table, the loop goes on)."""
        return self.publish(f"{self.prefix}/{topic}", b'{"ts": 1700000000000, "values": {"W01.THP": 12')


class SparkplugEdgeNode(_Publisher):
    """A Sparkplug B edge node with devices; metrics by alias after the birth."""

    def __init__(self, url: str, group_id: str, edge_node_id: str, devices: dict[str, dict[str, float]],
                 node_metrics: dict[str, float] | None = None, client_id: str | None = None,
                 amplitudes: dict[str, float] | None = None):
        super().__init__(url, client_id or f"sim-spb-{edge_node_id}")
        self.amplitudes = amplitudes or {}  # "<device>/<metric>" -> swing of the simulated value (default 1.0)
        self.group_id, self.edge_node_id = group_id, edge_node_id
        self.devices = devices  # device id -> {metric name: initial value}
        self.node_metrics = node_metrics or {}
        self.bd_seq = 0
        self.seq = 0
        self.rebirths = 0
        self.aliases: dict[tuple[str, str], int] = {}
        self.lock = threading.RLock()
        self.auto_birth = True
        n = 1
        for name in self.node_metrics:
            self.aliases[("", name)] = n
            n += 1
        for device, metrics in devices.items():
            for name in metrics:
                self.aliases[(device, name)] = n
                n += 1
        self._set_will()
        self.client.on_message = self._on_message

    def topic(self, kind: str, device: str = "") -> str:
        base = f"spBv1.0/{self.group_id}/{kind}/{self.edge_node_id}"
        return f"{base}/{device}" if device else base

    def _set_will(self) -> None:
        death = pb.Payload(timestamp=int(time.time() * 1000))
        death.metrics.add(name="bdSeq", datatype=pb.DataType.Int64, long_value=self.bd_seq)
        self.client.will_set(self.topic("NDEATH"), death.SerializeToString(), qos=1)

    def on_connect(self) -> None:
        self.client.subscribe(self.topic("NCMD"), qos=1)
        if self.auto_birth:
            threading.Thread(target=self.birth, daemon=True).start()

    def _next_seq(self) -> int:
        seq = self.seq
        self.seq = (self.seq + 1) % 256
        return seq

    def birth(self) -> None:
        """NBIRTH (seq 0, bdSeq, Node Control/Rebirth) then one DBIRTH per device."""
        with self.lock:
            self.seq = 0
            now = int(time.time() * 1000)
            nb = pb.Payload(timestamp=now, seq=self._next_seq())
            nb.metrics.add(name="bdSeq", datatype=pb.DataType.Int64, long_value=self.bd_seq)
            nb.metrics.add(name="Node Control/Rebirth", datatype=pb.DataType.Boolean, boolean_value=False)
            for name, value in self.node_metrics.items():
                nb.metrics.add(name=name, alias=self.aliases[("", name)], datatype=pb.DataType.Double,
                               double_value=value)
            self.publish(self.topic("NBIRTH"), nb.SerializeToString(), qos=0)
            for device, metrics in self.devices.items():
                db = pb.Payload(timestamp=now, seq=self._next_seq())
                for name, value in metrics.items():
                    db.metrics.add(name=name, alias=self.aliases[(device, name)], datatype=pb.DataType.Double,
                                   double_value=value)
                self.publish(self.topic("DBIRTH", device), db.SerializeToString(), qos=0)

    def data(self, device: str, values: dict[str, float], ts_ms: int | None = None, qos: int = 1):
        """DDATA (or NDATA with device "") with the given metric values, by alias."""
        with self.lock:
            payload = pb.Payload(timestamp=ts_ms or int(time.time() * 1000), seq=self._next_seq())
            for name, value in values.items():
                payload.metrics.add(alias=self.aliases[(device, name)], datatype=pb.DataType.Double,
                                    double_value=value)
            kind = "DDATA" if device else "NDATA"
            return self.publish(self.topic(kind, device), payload.SerializeToString(), qos=qos)

    def device_death(self, device: str):
        with self.lock:
            payload = pb.Payload(timestamp=int(time.time() * 1000), seq=self._next_seq())
            return self.publish(self.topic("DDEATH", device), payload.SerializeToString())

    def skip_seq(self, n: int = 1) -> None:
        """Fault: lose ``n`` messages (the host sees a sequence gap and asks for a rebirth)."""
        with self.lock:
            self.seq = (self.seq + n) % 256

    def send_malformed(self, device: str = ""):
        return self.publish(self.topic("DDATA" if device else "NDATA", device), b"\x0a\xff\xff not protobuf")

    def die(self) -> None:
        """Fault: the node drops off the network; the broker publishes its will (NDEATH with the current bdSeq)."""
        self.auto_birth = False
        self.disconnect()
        self.client.loop_stop()

    def rejoin(self, timeout: float = 10.0):
        """After ``die()``: a new session (``bdSeq`` + 1 in the will and the NBIRTH, as the specification asks) and a
        birth on connect."""
        self.bd_seq = (self.bd_seq + 1) % 256
        self._set_will()
        self.auto_birth = True
        self.connected.clear()
        return self.start(timeout)

    def _on_message(self, client, userdata, message) -> None:
        try:
            payload = pb.Payload.FromString(message.payload)
        except Exception:  # noqa: BLE001
            return
        for metric in payload.metrics:
            if metric.name == "Node Control/Rebirth" and metric.boolean_value:
                self.rebirths += 1
                threading.Thread(target=self.birth, daemon=True).start()


def demo_devices() -> dict:
    """The demo's MQTT configuration: names, settings and tags (also used by the tests)."""
    return {
        "json": {
            "name": "MQTT-PAD-A-TB", "site": "PAD-A",
            "description": "Tank battery and compressor controller (JSON over MQTT)",
            "connection": {"topic_prefix": "wellsite/pad-a/tb1"},
            "tags": [
                ("PAD-A.TK1.LEVEL", "m", 0, 8, 3.2, 0.6), ("PAD-A.TK2.LEVEL", "m", 0, 8, 4.1, 0.6),
                ("PAD-A.TK1.TEMP", "degC", -20, 120, 38.0, 2.0), ("PAD-A.VRU.SUCT_P", "kPa", 0, 400, 120, 15),
                ("PAD-A.CMP1.SUCT_P", "bar", 0, 40, 6.5, 0.5), ("PAD-A.CMP1.DISCH_P", "bar", 0, 120, 68, 3),
                ("PAD-A.CMP1.SPEED", "rpm", 0, 1800, 1150, 60),
            ],
        },
        "sparkplug": {
            "name": "MQTT-SPB-GAUGES", "site": "PAD-A",
            "description": "Downhole gauges W01..W04 (Sparkplug B edge node)",
            "connection": {"sparkplug": True, "group_id": "wellsite", "edge_node_id": "gauges-01"},
            "tags": [
                (f"{w}.DH_P", "bar", 0, 400, p, 2.0) for w, p in (("W01", 182), ("W02", 176), ("W03", 190),
                                                                   ("W04", 171))
            ] + [
                (f"{w}.DH_T", "degC", 0, 150, t, 0.5) for w, t in (("W01", 92), ("W02", 88), ("W03", 95),
                                                                    ("W04", 90))
            ],
        },
    }


def sparkplug_key(tag_name: str) -> str:
    """Demo gauge tag W01.DH_P -> Sparkplug key ``W01/DH_P`` (device W01, metric DH_P)."""
    well, _, metric = tag_name.partition(".")
    return f"{well}/{metric}"


def seed_mqtt_demo(stdout=None, broker_url: str | None = None) -> list:
    """Create (or update) the demo's MQTT devices and tags. Idempotent. Returns the devices."""
    from django.conf import settings

    from apps.wells.models import Site
    from scada.models import Device, Tag

    url = broker_url or getattr(settings, "MQTT_URL", None) or DEMO_BROKER_URL
    devices = []
    for kind, spec in demo_devices().items():
        site = Site.objects.filter(code=spec["site"]).first() or Site.objects.first()
        if site is None:
            if stdout:
                stdout.write("MQTT demo: no site yet (seed the wells first)\n")
            return devices
        connection = {"broker_url": url, **spec["connection"]}
        device = Device.objects.filter(name=spec["name"]).first() or Device(name=spec["name"])
        device.site, device.protocol, device.connection = site, "mqtt", connection
        device.description, device.poll_interval_ms, device.stale_after_intervals = spec["description"], 1000, 10
        device.full_clean()
        device.save()
        for name, unit, low, high, _mid, _amp in spec["tags"]:
            key = sparkplug_key(name) if kind == "sparkplug" else name
            tag = Tag.objects.filter(name=name).first() or Tag(name=name)
            tag.device, tag.data_type, tag.unit, tag.address = device, "float32", unit, {"key": key}
            tag.eng_low, tag.eng_high = low, high
            tag.full_clean()
            tag.save()
        devices.append(device)
        if stdout:
            stdout.write(f"MQTT demo device {device.name}: {len(spec['tags'])} tags ({url})\n")
    return devices


class MqttField:
    """Publishers for configured MQTT devices (``DeviceConfig`` snapshots), built from each device's own settings and
    tags: a JSON device gets a controller publishing ``{"ts", "values"}`` batches under its topic prefix; a Sparkplug
    device gets an edge node whose devices and metrics come from the tag keys (``<device>/<metric>``, or ``<metric>``
    for node metrics). The demo's own tags publish realistic values (``demo_devices``), others drift around 45 % of
    their engineering range. ``manage.py simulate_field`` runs it; ``inject()`` applies its MQTT faults."""

    def __init__(self, devices):
        from django.conf import settings

        demo = {name: (mid, amp) for spec in demo_devices().values() for name, _u, _l, _h, mid, amp in spec["tags"]}
        self.publishers: dict[str, JsonPublisher | SparkplugEdgeNode] = {}
        for device in devices:
            s = device.settings
            url = s.get("broker_url") or getattr(settings, "MQTT_URL", None) or DEMO_BROKER_URL
            mids = {}
            for tag in device.tags:
                low = tag.eng_low if tag.eng_low is not None else 0.0
                high = tag.eng_high if tag.eng_high is not None else 100.0
                mids[tag.address["key"]] = demo.get(tag.name) or (low + 0.45 * (high - low), 0.05 * (high - low))
            if s.get("sparkplug"):
                gauges, node_metrics = {}, {}
                for key, (mid, _amp) in mids.items():
                    sub, _, metric = key.rpartition("/")
                    (gauges.setdefault(sub, {}) if sub else node_metrics)[metric] = mid
                publisher = SparkplugEdgeNode(url, s.get("group_id") or "wellsite",
                                              s.get("edge_node_id") or device.name, gauges,
                                              node_metrics=node_metrics, client_id=f"sim-spb-{device.name}",
                                              amplitudes={k: a for k, (_m, a) in mids.items()})
            else:
                publisher = JsonPublisher(url, s["topic_prefix"], mids, client_id=f"sim-json-{device.name}")
            self.publishers[device.name] = publisher
        self.down: set[str] = set()

    def start(self) -> None:
        for publisher in self.publishers.values():
            publisher.start()

    def stop(self) -> None:
        for publisher in self.publishers.values():
            try:
                publisher.stop()
            except Exception as exc:  # noqa: BLE001  (already disconnected)
                log.debug("stopping %s: %s", publisher.url, exc)

    def describe(self):
        for name, p in self.publishers.items():
            if isinstance(p, SparkplugEdgeNode):
                yield (f"{name}: Sparkplug B edge node spBv1.0/{p.group_id}/{p.edge_node_id} on {p.url}, "
                       f"{sum(len(m) for m in p.devices.values()) + len(p.node_metrics)} metrics")
            else:
                yield f"{name}: JSON batches on {p.prefix}/batch at {p.url}, {len(p.tags)} tags"

    def tick(self, t: float | None = None) -> None:
        """One period: a JSON batch per JSON device, one DDATA per device of each edge node."""
        t = time.time() if t is None else t
        for name, p in self.publishers.items():
            if name in self.down:
                continue
            if isinstance(p, SparkplugEdgeNode):
                for sub, metrics in p.devices.items():
                    p.data(sub, {m: round(v + math.sin(t / 60.0 + len(sub)) * p.amplitudes.get(f"{sub}/{m}", 1.0)
                                          + random.uniform(-0.1, 0.1), 3) for m, v in metrics.items()})
            else:
                p.send_batch(t)

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        while not stop.is_set():
            self.tick()
            try:
                await asyncio.wait_for(stop.wait(), tick)
            except TimeoutError:
                pass

    async def inject(self, name: str, kind: str) -> None:
        publisher = self.publishers[name]
        if kind == "malformed":
            publisher.send_malformed()
        elif kind == "broker-disconnect":
            # An edge node drops off the network (no DISCONNECT): the broker publishes its will, NDEATH, and the host
            # turns its tags Stale. A clean disconnect would leave them Good (Sparkplug tags do not age).
            self.down.add(name)
            await asyncio.to_thread(publisher.die if isinstance(publisher, SparkplugEdgeNode) else publisher.stop)
        elif kind == "ok" and name in self.down:
            self.down.discard(name)
            if isinstance(publisher, SparkplugEdgeNode):
                await asyncio.to_thread(publisher.rejoin)
            else:
                publisher.connected.clear()
                await asyncio.to_thread(publisher.start)
