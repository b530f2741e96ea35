"""Celery tasks of the operations app: the daily backup (scheduled by OPS_BACKUP_HOUR/OPS_BACKUP_MINUTE)."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="apps.ops.tasks.daily_backup", ignore_result=True)
def daily_backup():
    call_command("backup", verbosity=1)
