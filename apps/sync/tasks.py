"""Celery tasks: one forwarder round (beat every SYNC_BEAT_SECONDS on an edge with HUB_URL), alerts, pruning."""

from celery import shared_task

from apps.core.context import Channel, acting


@shared_task(name="apps.sync.tasks.forward", ignore_result=True)
def forward(max_batches: int = 500) -> dict:
    from apps.sync.forwarder import Forwarder

    with acting(channel=Channel.SYNC):
        result = Forwarder().run_once(max_batches=max_batches)
    return {"sent": result.sent, "delivered": result.delivered, "quarantined": result.quarantined,
            "error": result.error}


@shared_task(name="apps.sync.tasks.check_alerts", ignore_result=True)
def check_alerts() -> str:
    from apps.sync import services

    with acting(channel=Channel.SYNC):
        return services.check_alerts()["level"]


@shared_task(name="apps.sync.tasks.prune", ignore_result=True)
def prune() -> int:
    from apps.sync import services

    return services.prune_delivered()
