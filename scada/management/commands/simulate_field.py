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
import signal

from django.core.management.base import BaseCommand, CommandError

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
        from scada.sim_mqtt import MqttField

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
