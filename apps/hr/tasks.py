from celery import shared_task

from apps.core.context import Channel, acting


@shared_task(name="apps.hr.tasks.notify_expiring_certificates")
def notify_expiring_certificates() -> int:
    """Celery beat (daily): notice of certificates expiring within HR_CERT_EXPIRY_NOTICE_DAYS, once each."""
    from apps.hr import services

    with acting(channel=Channel.WORKER):
        return services.notify_expiring_certificates()
