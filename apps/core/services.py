"""Core services: notifications."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.choices import Severity
from apps.core.models import Notification

log = logging.getLogger(__name__)


def recipients_for(role: str | None = None, field: str | None = None, site: str | None = None):
    """Active users with ``role`` (any role if None) whose scope covers ``field``/``site`` (any if None)."""
    User = get_user_model()
    users = User.objects.filter(is_active=True)
    if role:
        condition = Q(groups__name=role) | (Q(is_superuser=True) if role == "admin" else Q(pk__in=[]))
        users = users.filter(condition)
    users = users.distinct()
    if field or site:
        chosen = []
        for user in users.prefetch_related("scopes"):
            if user.is_superuser or user.role == "admin" or user.all_fields:
                chosen.append(user)
                continue
            codes = {(s.kind, s.code) for s in user.scopes.all()}
            if (field and ("field", field) in codes) or (site and ("site", site) in codes):
                chosen.append(user)
        return chosen
    return list(users)


def notify(
    recipients: Iterable | None = None,
    subject: str = "",
    body: str = "",
    link: str = "",
    severity: str = Severity.INFO,
    *,
    role: str | None = None,
    field: str | None = None,
    site: str | None = None,
) -> list[Notification]:
    """Store an in-app notification for each recipient (explicit users, or a role within a field/site scope) and
    e-mail those who asked for it at this severity, once the transaction commits."""
    if severity not in Severity.values:
        raise ValueError(f"severity must be one of {Severity.values}")
    users = list(recipients) if recipients is not None else recipients_for(role, field, site)
    seen, created = set(), []
    for user in users:
        if user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        created.append(
            Notification.objects.create(
                recipient=user, subject=subject[:200], body=body, link=link, severity=severity
            )
        )
    to_email = [
        n.pk
        for n in created
        if n.recipient.email
        and n.recipient.notify_by_email
        and Severity.rank(severity) >= Severity.rank(n.recipient.notify_min_severity)
    ]
    if to_email:
        transaction.on_commit(lambda: send_notification_emails(to_email))
    if created:
        transaction.on_commit(lambda: push_notifications(created))
    return created


def push_notifications(notifications: list[Notification]) -> None:
    """Tell the recipients' open pages (websocket group per user); a missing channel layer is not an error."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    for n in notifications:
        payload = {"id": str(n.pk), "subject": n.subject, "severity": n.severity, "link": n.link}
        try:
            async_to_sync(layer.group_send)(f"notifications-{n.recipient_id}",
                                            {"type": "notification.created", "notification": payload})
        except Exception as exc:  # noqa: BLE001 - a down Redis must not fail the transaction that notified
            log.warning("could not push notification %s: %s", n.pk, exc)


def send_notification_emails(notification_ids: list) -> int:
    sent = 0
    for n in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related("recipient"):
        text = n.body + (f"\n\n{n.link}" if n.link else "")
        try:
            send_mail(f"[{n.get_severity_display()}] {n.subject}", text, None, [n.recipient.email])
        except OSError as exc:  # an unreachable mail relay must not break the caller: the bell still has it
            log.warning("notification e-mail to %s failed: %s", n.recipient.email, exc)
            continue
        Notification.objects.filter(pk=n.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent


def mark_read(user, ids=None) -> int:
    qs = Notification.objects.restrict(user, "change").filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
