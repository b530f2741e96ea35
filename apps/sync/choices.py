from django.db import models


class EventState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    QUARANTINED = "quarantined", "Quarantined"


class Op(models.TextChoices):
    UPSERT = "upsert", "Create or update"
    DELETE = "delete", "Delete"


class Outcome(models.TextChoices):
    """The hub's answer for one event of a pushed batch."""

    ACCEPTED = "accepted", "Accepted (applied)"
    DUPLICATE = "duplicate", "Duplicate (already received)"
    STALE = "stale", "Stale (a newer version is applied)"
    REJECTED = "rejected", "Rejected (invalid)"


DELIVERED_OUTCOMES = (Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.STALE)


class AlertLevel(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"
