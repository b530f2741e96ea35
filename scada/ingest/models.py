"""HTTP ingest: accepted points wait in a durable buffer until the gateway's http_ingest driver publishes them into the
sample stream (historian, alarms, live HMI), like any other source. Rejected input goes to the dead-letter table."""

from django.conf import settings
from django.db import models

from apps.core import rbac


class IngestBuffer(models.Model):
    """Accepted points not yet taken by the gateway (tag key, source time in epoch seconds, value, quality)."""

    id = models.BigAutoField(primary_key=True)
    tag_key = models.IntegerField(db_index=True)
    ts = models.FloatField()
    value = models.FloatField(null=True)
    quality = models.SmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    rbac = {rbac.SCADA: ("add",)}  # the service account pushes; admin may too

    class Meta:
        permissions = []

    def __str__(self):
        return f"{self.tag_key}@{self.ts}"


class IngestionRecord(models.Model):
    """One accepted request: who sent what, with the counts (the audit of third-party pushes)."""

    id = models.BigAutoField(primary_key=True)
    ingestion_id = models.CharField(max_length=64, unique=True)
    tenant_id = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=100, blank=True)
    accepted = models.PositiveIntegerField()
    rejected = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    rbac = {rbac.SUPERVISOR: rbac.READ}

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return self.ingestion_id


class DeadLetter(models.Model):
    """Input that could not be used (malformed payload, unknown tag, wrong type, out of range), kept with its reason.
    Shared by every source: http ingest, MQTT, CSV, OPC-UA."""

    id = models.BigAutoField(primary_key=True)
    source = models.CharField(max_length=16, db_index=True, help_text="http, mqtt, sparkplug, csv, opcua")
    topic = models.CharField(max_length=300, blank=True, help_text="Topic, endpoint, file and line...")
    payload = models.TextField(blank=True, help_text="The input, cut to DEAD_LETTER_MAX_BYTES.")
    reason = models.CharField(max_length=500)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    rbac = {rbac.SUPERVISOR: rbac.READ}

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.source} {self.topic}: {self.reason}"

    @classmethod
    def record(cls, source: str, topic: str, payload, reason: str) -> "DeadLetter":
        limit = getattr(settings, "DEAD_LETTER_MAX_BYTES", 4096)
        text = payload if isinstance(payload, str) else (
            payload.decode("utf-8", "replace") if isinstance(payload, bytes | bytearray) else repr(payload))
        return cls.objects.create(source=source, topic=topic[:300], payload=text[:limit], reason=reason[:500])
