from celery import shared_task

from apps.core.context import Channel, acting


@shared_task(name="scada.alarms.expire_shelves")
def expire_shelves() -> int:
    """Beat fallback for shelve expiry when no gateway runs (the gateway's engine tick does it every second)."""
    from scada.alarms.services import expire_shelves as run

    with acting(channel=Channel.WORKER):
        return run()
