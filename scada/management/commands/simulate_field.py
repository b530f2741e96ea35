"""``manage.py simulate_field``: realistic simulated RTUs for the configured Modbus devices (demo and tests).

    manage.py simulate_field                          # every enabled Modbus TCP device served on its host/port
    manage.py simulate_field --fault comm-loss RTU-2  # RTU-2 stops answering after --fault-after seconds
    manage.py simulate_field --fault out-of-range RTU-1  # 4-20 mA loops of RTU-1 read below 3.6 mA (NE43 fault)

Signals drift (mean-reverting random walk plus slow oscillation) within each tag's engineering range; setpoints keep
what the gateway writes. Stop with SIGTERM/Ctrl-C.
"""

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

FAULTS = ("comm-loss", "out-of-range")


class Command(BaseCommand):
    help = "Serve simulated wellsite RTUs (Modbus TCP) for the configured devices."

    def add_arguments(self, parser):
        parser.add_argument("--fault", nargs=2, action="append", metavar=("KIND", "DEVICE"), default=[],
                            help=f"Inject a fault ({', '.join(FAULTS)}) into a device, e.g. --fault comm-loss RTU-2")
        parser.add_argument("--fault-after", type=float, default=0.0,
                            help="Seconds of normal operation before the faults start.")
        parser.add_argument("--fault-for", type=float, default=0.0,
                            help="Seconds the faults last (0: until stopped).")
        parser.add_argument("--tick", type=float, default=0.5, help="Signal update period in seconds.")
        parser.add_argument("--run-for", type=float, default=0.0, help="Stop after this many seconds.")

    def handle(self, *args, **options):
        from scada.runtime.config import load_config

        devices = [d for d in load_config().values() if d.protocol == "modbus_tcp"]
        if not devices:
            raise CommandError("No enabled Modbus TCP device is configured (run seed_demo first).")
        names = {d.name for d in devices}
        for kind, name in options["fault"]:
            if kind not in FAULTS:
                raise CommandError(f"Unknown fault {kind!r}: use one of {', '.join(FAULTS)}.")
            if name not in names:
                raise CommandError(f"Unknown device {name!r}: {', '.join(sorted(names))}.")
        asyncio.run(self._main(devices, options))

    async def _main(self, devices, options):
        from scada.simulator import FieldSimulator

        simulator = FieldSimulator(devices, tick=options["tick"])
        await simulator.start()
        for rtu in simulator.rtus.values():
            s = rtu.device.settings
            self.stdout.write(f"{rtu.device.name}: Modbus TCP {s['host']}:{s['port']} unit {s['unit_id']}, "
                              f"{len(rtu.device.tags)} tags, word order {rtu.word_order}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if options["run_for"]:
            loop.call_later(options["run_for"], stop.set)
        faults = asyncio.create_task(self._faults(simulator, options))
        await simulator.run(stop)
        faults.cancel()

    async def _faults(self, simulator, options):
        if not options["fault"]:
            return
        await asyncio.sleep(options["fault_after"])
        for kind, name in options["fault"]:
            await simulator.inject(kind, name)
            self.stdout.write(f"fault injected: {kind} on {name}")
        if options["fault_for"]:
            await asyncio.sleep(options["fault_for"])
            for _kind, name in options["fault"]:
                await simulator.inject("ok", name)
                self.stdout.write(f"fault cleared on {name}")
