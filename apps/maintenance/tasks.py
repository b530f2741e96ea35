from celery import shared_task

from apps.core.context import Channel, acting


@shared_task(name="apps.maintenance.tasks.generate_preventive_work_orders")
def generate_preventive_work_orders() -> int:
    """Celery beat (settings.CELERY_BEAT_SCHEDULE): create the preventive work orders now due (idempotent)."""
    from apps.maintenance.services import generate_due_work_orders

    with acting(channel=Channel.WORKER):
        return len(generate_due_work_orders())
