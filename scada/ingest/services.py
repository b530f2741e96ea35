"""Realtime ingest: validate, map (well, parameter) to a tag, convert units, range-check, buffer; per-point verdicts."""

from __future__ import annotations

import json
import math
import secrets
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from scada.ingest import units
from scada.ingest.models import DeadLetter, IngestBuffer, IngestionRecord
from scada.ingest.schema import schema_errors

QUALITY = {"GOOD": 0, "UNCERTAIN": 1, "BAD": 2}
MAX_FUTURE = timedelta(minutes=5)


class SchemaError(Exception):
    def __init__(self, details: list[dict]):
        self.details = details
        super().__init__("The payload does not match the ingest schema.")


class TenantMismatch(PermissionDenied):
    """403 with the reference contract's code ``tenant_mismatch`` (the error envelope takes ``envelope_code``)."""

    envelope_code = "tenant_mismatch"


def tenant_id() -> str:
    return getattr(settings, "INGEST_TENANT_ID", "") or settings.EDGE_ID


def _tag_index(user, points) -> dict:
    """(well_id, parameter_name) -> tag, for the http_ingest tags the user may see."""
    from scada.models import Tag

    wells = {p["well_id"] for p in points}
    params = {p["parameter_name"] for p in points}
    tags = (Tag.objects.restrict(user, "view").filter(enabled=True, device__protocol="http_ingest",
                                                      device__enabled=True)
            .filter(Q(well__name__in=wells) | Q(well__uwi__in=wells)).select_related("well"))
    index = {}
    for tag in tags:
        key = (tag.address or {}).get("key")
        if key in params:
            index[(tag.well.name, key)] = tag
            index[(tag.well.uwi, key)] = tag
    return index


def ingest(payload, user) -> dict:
    started = time.perf_counter()
    if not isinstance(payload, dict):
        raise SchemaError([{"field": "non_field_errors", "error": "Send a JSON object."}])
    errors = schema_errors(payload)
    if errors:
        raise SchemaError(errors)
    if payload["tenant_id"] != tenant_id():
        raise TenantMismatch("Token tenant_id does not match request tenant_id.")
    points = payload["data_points"]
    index = _tag_index(user, points)
    now = timezone.now()
    rows, rejected = [], []
    for i, point in enumerate(points):
        problem = _check(point, index, now)
        if isinstance(problem, dict):
            rejected.append({"index": i, **problem})
        else:
            rows.append(problem)
    ingestion_id = f"ing_{now:%Y%m%d_%H%M%S}_{secrets.token_hex(4)}"
    with transaction.atomic():
        IngestBuffer.objects.bulk_create(rows, batch_size=1000)
        IngestionRecord.objects.create(ingestion_id=ingestion_id, tenant_id=payload["tenant_id"], user=user,
                                       source=str(points[0].get("source", ""))[:100], accepted=len(rows),
                                       rejected=len(rejected))
        for r in rejected:
            DeadLetter.record("http", f"/api/v1/ingest/realtime #{r['index']}", json.dumps(points[r["index"]]),
                              f"{r['field']}: {r['error']}")
    status = "success" if not rejected else ("partial" if rows else "rejected")
    return {
        "status": status,
        "message": f"{len(rows)} accepted, {len(rejected)} rejected",
        "tenant_id": payload["tenant_id"],
        "ingestion_id": ingestion_id,
        "accepted_count": len(rows),
        "rejected_count": len(rejected),
        "processing_time_ms": round((time.perf_counter() - started) * 1000, 1),
        "rejected": rejected,
    }


def _check(point: dict, index: dict, now: datetime):
    """An IngestBuffer row, or {"field", "error"} saying why the point is refused."""
    tag = index.get((point["well_id"], point["parameter_name"]))
    if tag is None:
        known_well = any(w == point["well_id"] for w, _ in index)
        if not known_well:
            return {"field": "well_id", "error": f"No ingest tag for well {point['well_id']!r} in your scope."}
        return {"field": "parameter_name",
                "error": f"Well {point['well_id']!r} has no ingest tag for {point['parameter_name']!r}."}
    ts = parse_datetime(point["timestamp"])
    if ts is None or ts.tzinfo is None:
        return {"field": "timestamp", "error": "An ISO-8601 date-time with a UTC offset is required."}
    if ts - now > MAX_FUTURE:
        return {"field": "timestamp", "error": "The timestamp is more than 5 minutes in the future."}
    value = float(point["value"])
    if not math.isfinite(value):
        return {"field": "value", "error": "The value must be a finite number."}
    try:
        value = units.convert(value, point["unit"], tag.unit)
    except ValueError as exc:
        return {"field": "unit", "error": str(exc)}
    if tag.eng_low is not None and value < tag.eng_low or tag.eng_high is not None and value > tag.eng_high:
        return {"field": "value", "error": f"{value:g} {tag.unit} is outside the range of {tag.name} "
                                           f"({tag.eng_low:g} to {tag.eng_high:g} {tag.unit})."}
    quality = QUALITY[point.get("quality_code", "GOOD")]
    return IngestBuffer(tag_key=tag.key, ts=ts.astimezone(UTC).timestamp(),
                        value=None if quality == QUALITY["BAD"] else value, quality=quality)


def take(tag_keys, limit: int) -> list[IngestBuffer]:
    """Remove and return up to ``limit`` buffered points of these tags, oldest first (gateway side)."""
    with transaction.atomic():
        qs = IngestBuffer.objects.filter(tag_key__in=tag_keys).order_by("id")
        from django.db import connection

        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        rows = list(qs[:limit])
        if rows:
            IngestBuffer.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return rows
