"""``manage.py run_scada``: the SCADA gateway (drivers, historian writer, current values, hooks).

SIGTERM/SIGINT stop it cleanly: devices are closed, then everything queued is written before exit.
Changes made by the gateway (write completions) are audited with channel "gateway".
"""

import asyncio
import logging
import signal

from django.core.management.base import BaseCommand

from apps.core.context import Channel, acting

log = logging.getLogger("scada.gateway")


class Command(BaseCommand):
    help = "Run the SCADA gateway: poll devices, write the historian, keep current values, run setpoint writes."

    def add_arguments(self, parser):
        parser.add_argument("--run-for", type=float, default=0, help="Stop after this many seconds (tests, demos).")

    def handle(self, *args, **options):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username="scada", is_active=True).first()
        with acting(channel=Channel.GATEWAY, user=user):
            asyncio.run(self._main(options["run_for"]))

    async def _main(self, run_for: float):
        from scada.runtime.gateway import Gateway

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if run_for:
            loop.call_later(run_for, stop.set)
        gateway = Gateway()
        await gateway.run(stop)
        self.stdout.write(f"gateway stopped: {gateway.stats.published} samples, {gateway.stats.recorded} rows")
