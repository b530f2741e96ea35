"""Run the forwarder: push the outbox to the hub, pull the hub's master data, forward telemetry."""

import signal
import time

from django.conf import settings
from django.core.management.base import CommandError

from apps.core.context import Channel, acting
from apps.core.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Forward this edge's outbox to the hub (HUB_URL) until stopped, or one round with --once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One round (drain what is pending), then exit.")
        parser.add_argument("--interval", type=float, default=None, help="Seconds between rounds when idle.")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, **options):
        from apps.sync.forwarder import Forwarder

        if settings.EDGE_ROLE != "edge":
            raise CommandError("run_sync runs on an edge (EDGE_ROLE=edge); the hub only receives.")
        forwarder = Forwarder(batch_size=options["batch_size"])
        from erp import gctune

        gctune.tune()
        with acting(channel=Channel.SYNC):
            if options["once"]:
                started = time.perf_counter()
                result = forwarder.run_once()
                self.stdout.write(f"sent={result.sent} delivered={result.delivered} rejected={result.rejected} "
                                  f"quarantined={result.quarantined} pulled={result.pulled} "
                                  f"seconds={time.perf_counter() - started:.2f} error={result.error!r}")
                if not result.ok:
                    raise CommandError(result.error)
                return
            stopping = {"flag": False}

            def stop(signum, frame):
                stopping["flag"] = True

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            forwarder.run_forever(options["interval"], stop=lambda: stopping["flag"])
