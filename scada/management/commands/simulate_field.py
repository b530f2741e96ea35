"""``manage.py simulate_field``: the simulated field the demo and the tests talk to, built from the configuration.

- every enabled Modbus TCP device: a wellsite RTU (real pymodbus server) on its host/port;
- every enabled OPC-UA device: the separation facility (real asyncua server) on its endpoint;
- every enabled MQTT device of the demo: JSON batch and Sparkplug B edge-node publishers to its broker.

    manage.py simulate_field                              # everything configured
    manage.py simulate_field --only modbus,opcua          # some protocols only
    manage.py simulate_field --fault comm-loss RTU-2      # RTU-2 stops answering after --fault-after seconds
    manage.py simulate_field --fault out-of-range RTU-1   # RTU-1's 4-20 mA loops read below 3.6 mA (NE43)
    manage.py simulate_field --fault restart OPC-1        # the OPC-UA server restarts (clients must resubscribe)
    manage.py simulate_field --fault sensor-fail OPC-1    # SEP-1.LVL turns BadSensorFailure
    manage.py simulate_field --fault malformed MQTT-TB1   # the publisher sends malformed payloads (dead letters)
    manage.py simulate_field --fault broker-disconnect MQTT-TB1  # the publisher drops off the broker

Signals drift (mean-reverting random walk plus slow oscillation) within each tag's engineering range; setpoints keep
what the gateway writes. ``--fault-for`` clears the faults after that many seconds. Stop with SIGTERM/Ctrl-C.
"""

import asyncio
import functools
import logging
import signal

from django.core.management.base import BaseCommand, CommandError

log = logging.getLogger("scada.simulator")

FAULTS = {
    "modbus": ("comm-loss", "out-of-range"),
    "opcua": ("restart", "sensor-fail", "uncertain", "stuck"),
    "mqtt": ("malformed", "broker-disconnect"),
}
PROTOCOL_FAMILY = {"modbus_tcp": "modbus", "opcua": "opcua", "mqtt": "mqtt"}


class Command(BaseCommand):
    help = "Serve the simulated field (Modbus RTUs, OPC-UA facility, MQTT publishers) for the configured devices."

    def add_arguments(self, parser):
        parser.add_argument("--only", default="modbus,opcua,mqtt",
                            help="Comma-separated protocols to simulate (modbus, opcua, mqtt).")
        kinds = sorted({k for v in FAULTS.values() for k in v})
        parser.add_argument("--fault", nargs=2, action="append", metavar=("KIND", "DEVICE"), default=[],
                            help=f"Inject a fault ({', '.join(kinds)}) into a device, e.g. --fault comm-loss RTU-2")
        parser.add_argument("--fault-after", type=float, default=0.0,
                            help="Seconds of normal operation before the faults start.")
        parser.add_argument("--fault-for", type=float, default=0.0,
                            help="Seconds the faults last (0: until stopped).")
        parser.add_argument("--tick", type=float, default=0.5, help="Signal update period in seconds.")
        parser.add_argument("--run-for", type=float, default=0.0, help="Stop after this many seconds.")

    def handle(self, *args, **options):
        from scada.runtime.config import load_config

        only = {p.strip() for p in options["only"].split(",") if p.strip()}
        unknown = only - set(FAULTS)
        if unknown:
            raise CommandError(f"Unknown protocol {', '.join(sorted(unknown))}: use modbus, opcua, mqtt.")
        devices = [d for d in load_config().values() if PROTOCOL_FAMILY.get(d.protocol) in only]
        if not devices:
            raise CommandError("No enabled device to simulate is configured (run seed_demo first).")
        family = {d.name: PROTOCOL_FAMILY[d.protocol] for d in devices}
        for kind, name in options["fault"]:
            if name not in family:
                raise CommandError(f"Unknown device {name!r}: {', '.join(sorted(family))}.")
            if kind not in FAULTS[family[name]]:
                raise CommandError(f"{name} is a {family[name]} device: its faults are "
                                   f"{', '.join(FAULTS[family[name]])}.")
        asyncio.run(self._main(devices, family, options))

    async def _main(self, devices, family, options):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if options["run_for"]:
            loop.call_later(options["run_for"], stop.set)
        targets = {}  # device name -> ``async inject(kind)`` of its simulator
        runs, closers = [], []

        modbus = [d for d in devices if family[d.name] == "modbus"]
        if modbus:
            from scada.simulator import FieldSimulator

            simulator = FieldSimulator(modbus, tick=options["tick"])
            await simulator.start()
            for rtu in simulator.rtus.values():
                s = rtu.device.settings
                self.stdout.write(f"{rtu.device.name}: Modbus TCP {s['host']}:{s['port']} unit {s['unit_id']}, "
                                  f"{len(rtu.device.tags)} tags, word order {rtu.word_order}")
                targets[rtu.device.name] = functools.partial(_inject_modbus, simulator, rtu.device.name)
            runs.append(simulator.run(stop))

        for device in (d for d in devices if family[d.name] == "opcua"):
            from scada.sim_opcua import OpcUaFacility

            facility = OpcUaFacility.from_endpoint(device.settings["endpoint"])
            await facility.start()
            self.stdout.write(f"{device.name}: OPC-UA separation facility at {facility.endpoint}, "
                              f"{len(facility.node_ids())} variables")
            targets[device.name] = facility.inject
            closers.append(facility.stop)
            runs.append(facility.run(stop, tick=max(options["tick"], 0.5)))

        mqtt = [d for d in devices if family[d.name] == "mqtt"]
        if mqtt:
            runs.append(self._mqtt(mqtt, stop, targets, options))

        faults = asyncio.create_task(self._faults(targets, options))
        try:
            await asyncio.gather(*runs)
        finally:
            faults.cancel()
            for close in closers:
                try:
                    await close()
                except Exception:  # noqa: BLE001  (already stopped)
                    self.stderr.write(f"closing a simulator failed: {close}")

    async def _mqtt(self, devices, stop, targets, options):
        simulator = MqttField(devices)
        await asyncio.to_thread(simulator.start)
        for line in simulator.describe():
            self.stdout.write(line)
        for device in devices:
            targets[device.name] = functools.partial(simulator.inject, device.name)
        try:
            await simulator.run(stop, tick=max(options["tick"], 1.0))
        finally:
            await asyncio.to_thread(simulator.stop)

    async def _faults(self, targets, options):
        if not options["fault"]:
            return
        await asyncio.sleep(options["fault_after"])
        for kind, name in options["fault"]:
            await targets[name](kind)
            self.stdout.write(f"fault injected: {kind} on {name}")
        if options["fault_for"]:
            await asyncio.sleep(options["fault_for"])
            for _kind, name in options["fault"]:
                await targets[name]("ok")
                self.stdout.write(f"fault cleared on {name}")


async def _inject_modbus(simulator, name, kind):
    await simulator.inject(kind, name)


class MqttField:
    """Publishers for the configured MQTT devices, built from each device's own settings and tags: a JSON device gets
    a controller publishing ``{"ts", "values"}`` batches under its topic prefix; a Sparkplug device gets an edge node
    whose devices and metrics come from the tag keys (``<device>/<metric>``, or ``<metric>`` for node metrics)."""

    def __init__(self, devices):
        from django.conf import settings

        from scada.sim_mqtt import DEMO_BROKER_URL, JsonPublisher, SparkplugEdgeNode, demo_devices

        # The demo's own devices publish realistic values (tank levels, compressor speed, gauge pressures).
        demo = {name: (mid, amp) for spec in demo_devices().values() for name, _u, _l, _h, mid, amp in spec["tags"]}
        self.publishers = {}
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
                                              node_metrics=node_metrics, client_id=f"sim-spb-{device.name}")
                publisher.amplitudes = {k: a for k, (_m, a) in mids.items()}
            else:
                publisher = JsonPublisher(url, s["topic_prefix"], mids, client_id=f"sim-json-{device.name}")
            self.publishers[device.name] = publisher
        self.down: set[str] = set()

    def start(self):
        for publisher in self.publishers.values():
            publisher.start()

    def stop(self):
        for publisher in self.publishers.values():
            try:
                publisher.stop()
            except Exception as exc:  # noqa: BLE001  (already disconnected)
                log.debug("stopping %s: %s", publisher.url, exc)

    def describe(self):
        for name, p in self.publishers.items():
            if hasattr(p, "edge_node_id"):
                yield (f"{name}: Sparkplug B edge node spBv1.0/{p.group_id}/{p.edge_node_id} on {p.url}, "
                       f"{sum(len(m) for m in p.devices.values()) + len(p.node_metrics)} metrics")
            else:
                yield f"{name}: JSON batches on {p.prefix}/batch at {p.url}, {len(p.tags)} tags"

    def tick(self, t: float):
        import math
        import random

        for name, p in self.publishers.items():
            if name in self.down:
                continue
            if hasattr(p, "edge_node_id"):
                for sub, metrics in p.devices.items():
                    p.data(sub, {m: round(v + math.sin(t / 60.0 + len(sub)) * p.amplitudes.get(f"{sub}/{m}", 1.0)
                                          + random.uniform(-0.1, 0.1), 3) for m, v in metrics.items()})
            else:
                p.send_batch(t)

    async def run(self, stop: asyncio.Event, tick: float = 1.0):
        import time

        while not stop.is_set():
            self.tick(time.time())
            try:
                await asyncio.wait_for(stop.wait(), tick)
            except TimeoutError:
                pass

    async def inject(self, name: str, kind: str):
        publisher = self.publishers[name]
        if kind == "malformed":
            publisher.send_malformed()
        elif kind == "broker-disconnect":
            self.down.add(name)
            await asyncio.to_thread(publisher.stop)
        elif kind == "ok" and name in self.down:
            self.down.discard(name)
            publisher.connected.clear()
            await asyncio.to_thread(publisher.start)
