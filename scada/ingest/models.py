"""HTTP ingest: accepted points wait in a durable buffer until the gateway's http_ingest driver publishes them into the
sample stream (historian, alarms, live HMI), like any other source. Rejected input goes to the dead-letter table.
The CSV watcher keeps a ledger of the files it imported (``ImportedFile``) so a file is never imported twice."""

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
    def build(cls, source: str, topic: str, payload, reason: str) -> "DeadLetter":
        """An unsaved dead letter with its fields cut to size, for ``bulk_create`` of many at once."""
        limit = getattr(settings, "DEAD_LETTER_MAX_BYTES", 4096)
        text = payload if isinstance(payload, str) else (
            payload.decode("utf-8", "replace") if isinstance(payload, bytes | bytearray) else repr(payload))
        # PostgreSQL text cannot hold NUL: binary payloads (protobuf, a stray file) keep a visible marker instead
        return cls(source=source, topic=topic[:300].replace("\x00", "\ufffd"),
                   payload=text[:limit].replace("\x00", "\ufffd"), reason=reason[:500].replace("\x00", "\ufffd"))

    @classmethod
    def record(cls, source: str, topic: str, payload, reason: str) -> "DeadLetter":
        letter = cls.build(source, topic, payload, reason)
        letter.save()
        return letter


class ImportedFile(models.Model):
    """The CSV watcher's ledger: one row per file content (sha256) and device, so the same export dropped again, under
    any name, is never imported twice.

    ``PENDING -> IMPORTED -> ARCHIVED``: PENDING is written before the samples are published; IMPORTED (with the
    counts and the file's dead letters, in one transaction) once the historian committed every sample of the file;
    ARCHIVED once the file is moved out of the watched directory. A restart finds a PENDING file again and publishes
    only the samples the historian does not already hold; an IMPORTED file is only archived. The same content
    dropped again finds the ARCHIVED row: it is archived without importing and reported as a dead letter. A file that
    cannot be parsed at all is stored as ERROR (with the reason) and moved to the error directory; dropped again (after
    the device's settings were fixed) it is tried again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (publishing)"
        IMPORTED = "imported", "Imported (not yet archived)"
        ARCHIVED = "archived", "Imported and archived"
        ERROR = "error", "Could not be parsed"

    id = models.BigAutoField(primary_key=True)
    device = models.ForeignKey("scada.Device", on_delete=models.CASCADE, related_name="imported_files")
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=255, help_text="Original file name.")
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    rows_accepted = models.PositiveIntegerField(default=0, help_text="Data rows with at least one stored value.")
    rows_rejected = models.PositiveIntegerField(default=0, help_text="Rows (or cells) sent to the dead letters.")
    samples = models.PositiveIntegerField(default=0, help_text="Samples written to the historian by this file.")
    samples_skipped = models.PositiveIntegerField(
        default=0, help_text="Samples the historian already held (an overlapping export, an interrupted import).")
    first_ts = models.DateTimeField(null=True, blank=True)
    last_ts = models.DateTimeField(null=True, blank=True)
    archived_as = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    reason = models.CharField(max_length=500, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True, db_index=True)

    rbac = {rbac.SUPERVISOR: rbac.READ}

    class Meta:
        ordering = ["-first_seen_at"]
        constraints = [models.UniqueConstraint(fields=["device", "sha256"], name="ingest_importedfile_once")]

    def __str__(self):
        return f"{self.name} ({self.status})"
