"""Sync API.

Edge-authenticated (``Authorization: Sync <edge_id>:<secret>``, hub only): ``POST push``, ``GET pull``,
``POST telemetry``. User-authenticated: ``GET status`` (any signed-in user: the UI header shows it), the quarantine
(supervisors view, administrators retry) and the hub's list of edges.
"""

from __future__ import annotations

import zlib

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.exceptions import PayloadTooLarge, read_limited_body
from apps.sync import services, telemetry
from apps.sync.choices import EventState, Outcome
from apps.sync.client import AUTH_SCHEME
from apps.sync.models import EdgeCredential, OutboxEvent


class EdgeTokenAuthentication(BaseAuthentication):
    """An edge's sync token. The request's user stays anonymous; ``request.auth`` is the EdgeCredential."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace") != AUTH_SCHEME:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed sync credentials.")
        cred = services.authenticate_edge(header[1].decode(errors="replace"))
        if cred is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or out-of-scope sync token.")
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), cred

    def authenticate_header(self, request):
        return AUTH_SCHEME


class IsEdge(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, EdgeCredential)


def _hub_only():
    if settings.EDGE_ROLE != "hub":
        raise exceptions.NotFound("This box is not a hub.")


def read_json_body(request) -> dict:
    """The JSON body, gunzipped if Content-Encoding is gzip, refusing anything above SYNC_MAX_BODY_BYTES."""
    limit = settings.SYNC_MAX_BODY_BYTES
    advice = "Send fewer events per request (SYNC_BATCH_MAX_BYTES on the edge)."
    raw = read_limited_body(request, limit, "SYNC_MAX_BODY_BYTES", advice)
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error:
            raise exceptions.ParseError("The body is not valid gzip.")
        if len(raw) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(limit, None, "Once gunzipped. " + advice, "SYNC_MAX_BODY_BYTES")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise exceptions.ParseError("The body is not valid JSON.")
    if not isinstance(body, dict):
        raise exceptions.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    return body


class EdgeView(APIView):
    authentication_classes = [EdgeTokenAuthentication]
    permission_classes = [IsEdge]
    parser_classes: list = []  # the body is read (and gunzipped) by read_json_body

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _hub_only()


class PushView(EdgeView):
    @extend_schema(request=None, responses=None, summary="Receive a batch of outbox events from an edge")
    def post(self, request):
        body = read_json_body(request)
        cred: EdgeCredential = request.auth
        if body.get("edge_id") not in (None, cred.edge_id):
            raise exceptions.ValidationError({"edge_id": ["Does not match the credential's edge."]})
        events = body.get("events")
        if not isinstance(events, list):
            raise exceptions.ValidationError({"events": ["Must be a list of events."]})
        # A pipelined forwarder names the last sequence of the batch it sent just before this one: it is applied
        # first (this batch is validated meanwhile; see services.wait_for_predecessor).
        after = body.get("after")
        if after is not None and (type(after) is not int or after < 0):
            raise exceptions.ValidationError({"after": ["Must be a non-negative integer or null."]})
        results = services.apply_events(events, cred.edge_id, role="hub",
                                        before_lock=lambda: services.wait_for_predecessor(cred.edge_id, after))
        counts = {o: 0 for o in Outcome.values}
        for r in results:
            counts[r["status"]] += 1
        backlog = body.get("backlog") if isinstance(body.get("backlog"), dict) else {}
        now = timezone.now()
        EdgeCredential.objects.filter(pk=cred.pk).update(
            last_seen_at=now, last_push_at=now,
            events_received=F("events_received") + counts[Outcome.ACCEPTED],
            reported_backlog=_int(backlog.get("pending")),
            reported_quarantined=_int(backlog.get("quarantined")),
            reported_oldest_age=_int(backlog.get("oldest_pending_age_seconds")),
        )
        # Encoded here with orjson (a 5,000-event answer costs a few ms instead of DRF's renderer's tens of ms).
        return HttpResponse(services.dumps({"results": results, "counts": counts}), content_type="application/json")


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PullView(EdgeView):
    @extend_schema(request=None, responses=None, summary="Hub-authored master data after a cursor")
    def get(self, request):
        errors = {}
        try:
            cursor = int(request.query_params.get("cursor", 0))
            if cursor < 0:
                raise ValueError
        except ValueError:
            errors["cursor"] = ["Must be a non-negative integer."]
        try:
            limit = int(request.query_params.get("limit", 1000))
            if not 1 <= limit <= 10000:
                raise ValueError
        except ValueError:
            errors["limit"] = ["Must be an integer from 1 to 10000."]
        if errors:
            raise exceptions.ValidationError(errors)
        EdgeCredential.objects.filter(pk=request.auth.pk).update(last_pull_at=timezone.now(),
                                                                 last_seen_at=timezone.now())
        return Response(services.feed(cursor, limit))


class TelemetryView(EdgeView):
    @extend_schema(request=None, responses=None, summary="Receive a chunk of a telemetry stream")
    def post(self, request):
        body = read_json_body(request)
        stream = telemetry.stream(str(body.get("stream")))
        if stream is None or stream.write is None:
            raise exceptions.ValidationError({"stream": ["Unknown telemetry stream."]})
        rows = body.get("rows")
        if not isinstance(rows, list):
            raise exceptions.ValidationError({"rows": ["Must be a list."]})
        with transaction.atomic():
            stored = stream.write(request.auth.edge_id, rows)
        EdgeCredential.objects.filter(pk=request.auth.pk).update(last_seen_at=timezone.now())
        return Response({"stored": stored, "to": body.get("to")})


class StatusView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=None, summary="Sync status of this box (reference shape) with the backlog alert")
    def get(self, request):
        return Response(services.status())


def _quarantine_row(ev: OutboxEvent) -> dict:
    return {**services.event_dict(ev), "attempts": ev.attempts, "last_error": ev.last_error}


class QuarantineView(APIView):
    rbac_model = OutboxEvent  # the choke point: roles that may view outbox events (admin, supervisor)

    @extend_schema(responses=None, summary="Quarantined events (rejected by the hub)")
    def get(self, request):
        qs = OutboxEvent.objects.filter(state=EventState.QUARANTINED).order_by("sequence")
        aggregate = request.query_params.get("aggregate_type")
        if aggregate:
            qs = qs.filter(aggregate_type=aggregate)
        return Response({"count": qs.count(), "results": [_quarantine_row(e) for e in qs[:500]]})


class QuarantineRetryView(APIView):
    rbac_model = OutboxEvent
    rbac_action = "change"  # admin only

    @extend_schema(request=None, responses=None, summary="Put quarantined events back in the queue")
    def post(self, request):
        sequences = request.data.get("sequences") if isinstance(request.data, dict) else None
        if sequences is not None and (
            not isinstance(sequences, list) or not all(isinstance(s, int) and not isinstance(s, bool)
                                                       for s in sequences)
        ):
            raise exceptions.ValidationError({"sequences": ["Must be a list of event sequence numbers."]})
        return Response({"retried": services.retry_quarantined(sequences)})


class QuarantineExportView(APIView):
    rbac_model = OutboxEvent

    @extend_schema(responses=None, summary="Download the quarantine as JSON or CSV")
    def get(self, request):
        fmt = request.query_params.get("as", "json")  # "format" is DRF's renderer override
        if fmt not in ("json", "csv"):
            raise exceptions.ValidationError({"as": ["Use json or csv."]})
        content_type = "text/csv" if fmt == "csv" else "application/json"
        response = HttpResponse(services.export_quarantined(fmt), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="sync-quarantine.{fmt}"'
        return response


class EdgesView(APIView):
    rbac_model = EdgeCredential

    @extend_schema(responses=None, summary="Hub: edges with their last sync, backlog and quarantine")
    def get(self, request):
        _hub_only()
        rows = []
        for row in services.edges_overview():
            c = row["credential"]
            rows.append({
                "edge_id": c.edge_id, "active": c.is_active, "scopes": c.scopes,
                "last_push_at": c.last_push_at, "last_pull_at": c.last_pull_at, "last_seen_at": c.last_seen_at,
                "events_received": c.events_received, "backlog": c.reported_backlog,
                "quarantined": c.reported_quarantined, "oldest_pending_age_seconds": c.reported_oldest_age,
                "last_sequence": row["last_sequence"],
            })
        return Response({"results": rows})
