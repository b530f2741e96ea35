"""A simulated OPC-UA separation facility (a real asyncua server) and its demo device.

``OpcUaFacility`` serves one three-phase inlet separator train the way a facility PLC/DCS exposes it over OPC-UA:
every process value is an ``AnalogItemType`` variable (Double) with the standard ``EngineeringUnits`` (EUInformation,
UNECE codes) and ``EURange`` (Range) properties, under ``Objects/SeparationFacility`` in namespace
``urn:wellsite-edge:separation-facility`` (index 2), node ids ``ns=2;s=<tag name>``:

====================  ========================================  ========  =============  =========
tag (node id string)  what                                      unit      EURange        writable
====================  ========================================  ========  =============  =========
SEP-1.PRES            inlet separator pressure                  bar(g)    0 .. 100       no
SEP-1.LVL             separator liquid level                    %         0 .. 100       no
SEP-1.TEMP            separator temperature                     degC      0 .. 120       no
LCV-1.OUT             level-control valve output (setpoint)     %         0 .. 100       yes
FT-GAS.FLOW           gas meter flow rate                       Sm3/d     0 .. 500000    no
FT-GAS.TOTAL          gas meter totaliser (monotonic)           Sm3       0 .. 1e12      no
FT-OIL.FLOW           oil meter flow rate                       m3/d      0 .. 2000      no
FT-OIL.TOTAL          oil meter totaliser                       m3        0 .. 1e12      no
FT-WAT.FLOW           water meter flow rate                     m3/d      0 .. 3000      no
FT-WAT.TOTAL          water meter totaliser                     m3        0 .. 1e12      no
LIC-1.MODE            level controller mode (String: AUTO/MAN)  -         -              no
====================  ========================================  ========  =============  =========

Values drift with scada.simulator.Signal (mean-reverting random walk plus a slow oscillation); the liquid level
answers the valve output (opening the LCV drains the separator, and the oil/water flows rise with it); totalisers
integrate their flow (units per day -> per second), so they only ever increase.

Faults on demand (``await inject(kind, target=None)``):

- ``restart``: the server stops and starts again on the same port (clients lose their session and subscription);
- ``sensor-fail``: a transmitter (default SEP-1.LVL) reports BadSensorFailure;
- ``uncertain``: a transmitter (default SEP-1.PRES) reports UncertainLastUsableValue;
- ``stuck``: a value (default FT-GAS.FLOW) stops changing (the gateway's stale detection sees it);
- ``ok``: every fault cleared.

The tests drive the same class without ``run()``: ``await set(name, value, status=None)`` writes exact values.
``seed_opcua_demo(stdout)`` creates the demo device ``OPC-1`` (endpoint ``opc.tcp://127.0.0.1:14840/wellsite/``)
and its tags on site PAD-A.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from asyncua import Server, ua

from scada.simulator import Signal

log = logging.getLogger("scada.sim_opcua")
if logging.getLogger("asyncua").level == logging.NOTSET:  # asyncua logs every request at INFO: keep warnings only
    logging.getLogger("asyncua").setLevel(logging.WARNING)

NAMESPACE = "urn:wellsite-edge:separation-facility"
DEMO_DEVICE = "OPC-1"
DEMO_PORT = 14840  # not the IANA 4840, so a real OPC-UA server on the same machine does not clash
DEMO_PATH = "/wellsite/"
UNECE = "http://www.opcfoundation.org/UA/units/un/cefact"
APPLICATION_URI = "urn:wellsite-edge:sim:separation-facility"
FAULTS = ("restart", "sensor-fail", "uncertain", "stuck", "ok")


def unece_id(code: str) -> int:
    """UnitId of a UNECE Rec. 20 common code (OPC-UA Part 8 §5.6.3): the code's ASCII bytes, big-endian."""
    value = 0
    for char in code.upper():
        value = (value << 8) | ord(char)
    return value


@dataclass(frozen=True)
class Point:
    name: str
    description: str
    unit: str  # the tag unit in the product
    display: str  # EUInformation.DisplayName
    unece: str  # UNECE common code
    unit_text: str  # EUInformation.Description
    low: float
    high: float
    base: float = 0.0
    noise: float = 0.0
    amplitude: float = 0.0
    writable: bool = False
    totalises: str = ""  # name of the flow this totaliser integrates (per day)
    deadband_pct: float = 0.5


POINTS: tuple[Point, ...] = (
    Point("SEP-1.PRES", "Inlet separator pressure", "bar", "bar(g)", "BAR", "bar gauge", 0, 100, 28.0, 0.08, 1.5),
    Point("SEP-1.LVL", "Separator liquid level", "%", "%", "P1", "percent of span", 0, 100, 50.0, 0.15, 0.0),
    Point("SEP-1.TEMP", "Separator temperature", "degC", "°C", "CEL", "degree Celsius", 0, 120, 58.0, 0.03, 2.0),
    Point("LCV-1.OUT", "Level-control valve output", "%", "%", "P1", "percent open", 0, 100, 40.0, writable=True),
    Point("FT-GAS.FLOW", "Gas meter flow rate", "Sm3/d", "Sm3/d", "G52", "standard cubic metre per day",
          0, 500_000, 180_000.0, 400.0, 12_000.0),
    Point("FT-GAS.TOTAL", "Gas meter totaliser", "Sm3", "Sm3", "MTQ", "standard cubic metre", 0, 1e12,
          12_500_000.0, totalises="FT-GAS.FLOW", deadband_pct=0.0),
    Point("FT-OIL.FLOW", "Oil meter flow rate", "m3/d", "m3/d", "G52", "cubic metre per day", 0, 2000,
          650.0, 2.0, 30.0),
    Point("FT-OIL.TOTAL", "Oil meter totaliser", "m3", "m3", "MTQ", "cubic metre", 0, 1e12, 482_000.0,
          totalises="FT-OIL.FLOW", deadband_pct=0.0),
    Point("FT-WAT.FLOW", "Water meter flow rate", "m3/d", "m3/d", "G52", "cubic metre per day", 0, 3000,
          900.0, 3.0, 40.0),
    Point("FT-WAT.TOTAL", "Water meter totaliser", "m3", "m3", "MTQ", "cubic metre", 0, 1e12, 731_000.0,
          totalises="FT-WAT.FLOW", deadband_pct=0.0),
)
MODE_NODE = "LIC-1.MODE"  # a String variable: a client must not store it as a number


def _spec_deadband() -> None:
    """Make asyncua's server apply an absolute deadband as OPC-UA Part 4 (7.22.2) says: against the last value
    *reported* to the client (asyncua compares with the previous sample, so a slow ramp is never reported), and never
    to a status change (asyncua drops a status change whose value did not move). Server side only; idempotent."""
    from asyncua.server.monitored_item_service import MonitoredItemService

    if getattr(MonitoredItemService, "_wellsite_spec_deadband", False):
        return

    def exceeded(self, values, flt) -> bool:
        current = values.get_current_datavalue()
        reported = getattr(values, "reported", None) or values.get_old_datavalue()
        passes = True
        if (flt.DeadbandType == ua.DeadbandType.Absolute and current is not None and reported is not None
                and current.StatusCode == reported.StatusCode):
            try:
                passes = abs(current.Value.Value - reported.Value.Value) > flt.DeadbandValue
            except TypeError:  # not numeric, or no value: report it
                passes = True
        if passes:
            values.reported = current
        return passes

    MonitoredItemService._is_deadband_exceeded = exceeded
    MonitoredItemService._wellsite_spec_deadband = True


class _Users:
    """User name/password check of the simulated server (asyncua UserManager interface)."""

    def __init__(self, users: dict[str, str]):
        self.users = users

    def get_user(self, iserver, username=None, password=None, certificate=None):
        from asyncua.crypto.permission_rules import User, UserRole

        if username in self.users and self.users[username] == password:
            return User(role=UserRole.User, name=username)
        return None


class OpcUaFacility:
    """A real asyncua server serving the separation facility; state (signals, totals) survives a restart."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEMO_PORT, path: str = DEMO_PATH,
                 extra_points: int = 0, certificate: str | None = None, private_key: str | None = None,
                 users: dict[str, str] | None = None):
        """``certificate``/``private_key``: serve only Basic256Sha256 SignAndEncrypt with this application
        certificate; ``users``: user name -> password, anonymous sessions refused."""
        self.host, self.port, self.path = host, port, path
        self.certificate, self.private_key, self.users = certificate, private_key, users
        self.endpoint = f"opc.tcp://{host}:{port}{path}"
        self.points = {p.name: p for p in POINTS}
        self.extra = [f"BENCH.T{i:05d}" for i in range(extra_points)]  # bench/opcua.py: plain Double variables
        self.signals = {p.name: Signal(base=p.base, noise=p.noise, low=p.low, high=p.high, amplitude=p.amplitude,
                                       period_s=random.uniform(600, 1800))
                        for p in POINTS if not p.totalises}
        self.values: dict[str, float] = {p.name: p.base for p in POINTS}
        self.status: dict[str, int] = {}  # name -> StatusCode value while a fault is injected
        self.stuck: set[str] = set()
        self.server: Server | None = None
        self.nodes: dict[str, ua.NodeId] = {}
        self.ns = 2
        self.running = False
        self.restarts = 0

    @classmethod
    def from_endpoint(cls, endpoint: str, **kwargs) -> OpcUaFacility:
        """The facility a device's ``connection["endpoint"]`` points at (``simulate_field`` serves OPC-1 this way)."""
        from urllib.parse import urlparse

        url = urlparse(endpoint)
        return cls(host=url.hostname or "127.0.0.1", port=url.port or 4840, path=url.path or "/", **kwargs)

    def node_ids(self) -> dict[str, str]:
        """Tag name -> node id string (``ns=2;s=SEP-1.PRES``)."""
        names = [*self.points, MODE_NODE, *self.extra]
        return {name: f"ns={self.ns};s={name}" for name in names}

    # -- server -------------------------------------------------------------------------------------------------
    async def _build(self) -> Server:
        _spec_deadband()
        server = Server(user_manager=_Users(self.users) if self.users else None)
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("Wellsite separation facility (simulated)")
        if self.certificate:
            await server.load_certificate(self.certificate)
            await server.load_private_key(self.private_key)
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        if self.users:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        await server.set_application_uri(APPLICATION_URI)
        self.ns = await server.register_namespace(NAMESPACE)
        folder = await server.nodes.objects.add_object(ua.NodeId("SeparationFacility", self.ns), "SeparationFacility")
        for point in POINTS:
            node = await folder.add_variable(ua.NodeId(point.name, self.ns), point.name,
                                             float(self.values[point.name]), ua.VariantType.Double)
            await node.write_attribute(ua.AttributeIds.Description, ua.DataValue(ua.Variant(
                ua.LocalizedText(point.description), ua.VariantType.LocalizedText)))
            await node.delete_reference(ua.NodeId(ua.ObjectIds.BaseDataVariableType),
                                        ua.ObjectIds.HasTypeDefinition, forward=True, bidirectional=False)
            await node.add_reference(ua.NodeId(ua.ObjectIds.AnalogItemType), ua.ObjectIds.HasTypeDefinition,
                                     forward=True, bidirectional=False)
            eu = ua.EUInformation(NamespaceUri=UNECE, UnitId=unece_id(point.unece),
                                  DisplayName=ua.LocalizedText(point.display),
                                  Description=ua.LocalizedText(point.unit_text))
            await node.add_property(ua.NodeId(f"{point.name}.EngineeringUnits", self.ns),
                                    ua.QualifiedName("EngineeringUnits", 0), eu, ua.VariantType.ExtensionObject,
                                    ua.NodeId(ua.ObjectIds.EUInformation))
            await node.add_property(ua.NodeId(f"{point.name}.EURange", self.ns), ua.QualifiedName("EURange", 0),
                                    ua.Range(Low=float(point.low), High=float(point.high)),
                                    ua.VariantType.ExtensionObject, ua.NodeId(ua.ObjectIds.Range))
            if point.writable:
                await node.set_writable(True)
            self.nodes[point.name] = node.nodeid
        mode = await folder.add_variable(ua.NodeId(MODE_NODE, self.ns), MODE_NODE, "AUTO", ua.VariantType.String)
        self.nodes[MODE_NODE] = mode.nodeid
        for name in self.extra:
            node = await folder.add_variable(ua.NodeId(name, self.ns), name, 0.0, ua.VariantType.Double)
            self.nodes[name] = node.nodeid
            self.values[name] = 0.0
        return server

    async def start(self) -> OpcUaFacility:
        self.server = await self._build()
        await self.server.start()
        self.running = True
        for name, status in self.status.items():  # a fault survives a restart
            await self._write(name, self.values[name], status)
        log.info("OPC-UA separation facility on %s (%d variables)", self.endpoint, len(self.nodes))
        return self

    async def stop(self) -> None:
        server, self.server = self.server, None
        self.running = False
        if server is not None:
            await server.stop()

    async def restart(self, pause: float = 0.5) -> None:
        await self.stop()
        await asyncio.sleep(pause)
        await self.start()
        self.restarts += 1

    # -- values -------------------------------------------------------------------------------------------------
    async def _write(self, name: str, value, status: int | None = None, ts: datetime | None = None) -> None:
        if self.server is None:
            return
        vtype = ua.VariantType.String if isinstance(value, str) else ua.VariantType.Double
        stamp = datetime.now(UTC)
        dv = ua.DataValue(ua.Variant(value if vtype == ua.VariantType.String else float(value), vtype),
                          StatusCode=ua.StatusCode(status if status is not None else ua.StatusCodes.Good),
                          SourceTimestamp=ts or stamp, ServerTimestamp=stamp)
        await self.server.write_attribute_value(self.nodes[name], dv)

    async def set(self, name: str, value, status: int | None = None, ts: datetime | None = None) -> None:
        """Write a value (and optionally a StatusCode such as ua.StatusCodes.BadSensorFailure, and the source
        timestamp) as the field would."""
        if not isinstance(value, str):
            self.values[name] = float(value)
        await self._write(name, value, status, ts)

    async def set_many(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.values[name] = float(value)
            await self._write(name, value)

    async def get(self, name: str):
        return (await self.server.get_node(self.nodes[name]).read_value())

    async def update(self, t: float, dt: float) -> None:
        """One simulation step of every process value."""
        if self.server is None:
            return
        valve = self.points["LCV-1.OUT"]
        opening = float(await self.get(valve.name))  # the setpoint keeps what a client wrote
        self.values[valve.name] = opening
        level = self.signals["SEP-1.LVL"]
        level.base = min(90.0, max(10.0, 50.0 - 0.8 * (opening - 40.0)))  # more valve, lower level
        for name in ("FT-OIL.FLOW", "FT-WAT.FLOW"):
            signal, point = self.signals[name], self.points[name]
            signal.base = point.base * (0.6 + opening / 100.0)
        for point in POINTS:
            name = point.name
            if point.writable or name in self.stuck:
                continue
            if point.totalises:
                self.values[name] += max(self.values[point.totalises], 0.0) / 86_400.0 * dt
            else:
                self.values[name] = self.signals[name].step(t, dt)
            await self._write(name, self.values[name], self.status.get(name))

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        t0 = last = time.monotonic()
        while not stop.is_set():
            current = time.monotonic()
            try:
                await self.update(current - t0, current - last)
            except Exception:  # noqa: BLE001  (a restart in progress: try again next tick)
                log.debug("update skipped", exc_info=True)
            last = current
            try:
                await asyncio.wait_for(stop.wait(), tick)
            except TimeoutError:
                pass

    async def inject(self, kind: str, target: str | None = None) -> None:
        if kind == "restart":
            await self.restart()
        elif kind == "sensor-fail":
            name = target or "SEP-1.LVL"
            self.status[name] = ua.StatusCodes.BadSensorFailure
            await self._write(name, self.values[name], self.status[name])
        elif kind == "uncertain":
            name = target or "SEP-1.PRES"
            self.status[name] = ua.StatusCodes.UncertainLastUsableValue
            await self._write(name, self.values[name], self.status[name])
        elif kind == "stuck":
            self.stuck.add(target or "FT-GAS.FLOW")
        elif kind == "ok":
            cleared = list(self.status)
            self.status.clear()
            self.stuck.clear()
            for name in cleared:
                await self._write(name, self.values[name])
        else:
            raise ValueError(f"unknown fault {kind!r}: use one of {', '.join(FAULTS)}")


def seed_opcua_demo(stdout, site_code: str = "PAD-A", port: int = DEMO_PORT) -> None:
    """The demo OPC-UA device (``OPC-1`` on ``opc.tcp://127.0.0.1:14840/wellsite/``) and its tags, on PAD-A."""
    from apps.wells.models import Site
    from scada.models import Device, Tag

    site = Site.objects.filter(code=site_code).first()
    if site is None:
        stdout.write(f"OPC-UA demo skipped: site {site_code} is missing.")
        return
    device, _ = Device.objects.update_or_create(name=DEMO_DEVICE, defaults={
        "site": site, "protocol": "opcua", "description": f"Separation facility PLC {site_code} (OPC-UA)",
        "poll_interval_ms": 1000, "enabled": True,
        "connection": {"endpoint": f"opc.tcp://127.0.0.1:{port}{DEMO_PATH}", "security_mode": "None",
                       "security_policy": "None", "timeout_s": 4.0, "queue_size": 10, "keepalive_s": 5.0,
                       "watchdog_s": 1.0}})
    facility = OpcUaFacility(port=port)
    ids = facility.node_ids()
    for point in POINTS:
        Tag.objects.update_or_create(name=point.name, defaults={
            "device": device, "description": point.description, "address": {"node_id": ids[point.name]},
            "data_type": "float64", "scaling": "none", "eng_low": point.low, "eng_high": point.high,
            "unit": point.unit, "writable": point.writable, "max_interval_s": 300,
            "deadband": point.deadband_pct, "deadband_mode": "percent" if point.deadband_pct else "absolute"})
    stdout.write(f"Seeded OPC-UA: {DEMO_DEVICE} ({device.connection['endpoint']}), {len(POINTS)} tags on "
                 f"{site_code}.")
