from django.core.management.base import BaseCommand

from apps.core.context import Channel, acting


class AuditedCommand(BaseCommand):
    """A management command whose changes are audited with channel ``command`` (actor: system)."""

    def execute(self, *args, **options):
        with acting(channel=Channel.COMMAND):
            return super().execute(*args, **options)
