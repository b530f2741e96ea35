import io
import logging
import time

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from apps.core.api.exceptions import read_limited_body
from scada.ingest import services
from scada.ingest.models import DeadLetter, IngestBuffer
from scada.ingest.schema import INGEST_SCHEMA

log = logging.getLogger("scada.ingest")

OPENAPI_SCHEMA = {k: v for k, v in INGEST_SCHEMA.items() if k != "$schema"}  # OpenAPI 3.0 has no $schema keyword


class IngestResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success", "partial", "rejected"])
    message = serializers.CharField()
    tenant_id = serializers.CharField()
    ingestion_id = serializers.CharField()
    accepted_count = serializers.IntegerField()
    rejected_count = serializers.IntegerField()
    processing_time_ms = serializers.FloatField()
    rejected = serializers.ListField(child=serializers.DictField())


class IngestRateThrottle(SimpleRateThrottle):
    """INGEST_RATE_PER_MINUTE requests in any sliding minute per client: the authenticated user (the scada service
    account), else the address (REMOTE_ADDR, which daphne's --proxy-headers already takes from X-Forwarded-For; the
    header itself is not trusted). DRF keeps each client's request times in the default cache, so the limit is shared
    by every web process when the cache is Redis (REDIS_URL) and counted per process with the local-memory cache.
    Its read-then-write of the list is not atomic: two simultaneous requests of one client may count as one."""

    scope = "ingest"

    def get_rate(self):
        return f"{settings.INGEST_RATE_PER_MINUTE}/min"

    def get_ident(self, request):
        return request.META.get("REMOTE_ADDR") or "unknown"

    def allow_request(self, request, view):
        """Fails open: with the cache away (Redis restarting) the request is let through and logged, not answered 500.
        The limit protects the box from a runaway client; refusing every push while Redis restarts would lose the
        field's data instead (the points themselves go to PostgreSQL)."""
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache backend's connection error
            now = time.monotonic()
            if now - IngestRateThrottle._last_warning > 60:
                IngestRateThrottle._last_warning = now
                log.warning("ingest rate limit not applied: its cache is unavailable (%s)", exc)
            return True

    _last_warning = float("-inf")

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def read_json_body(request):
    """The parsed JSON body, at most INGEST_MAX_BODY_BYTES (413 above; apps.core.api.exceptions.read_limited_body).
    Parsing is still DRF's JSONParser (same charset handling, NaN refused, same parse_error)."""
    raw = read_limited_body(request, settings.INGEST_MAX_BODY_BYTES, "INGEST_MAX_BODY_BYTES",
                            "Send fewer data points per request.")
    if not raw:
        return {}  # as DRF: an empty body is an empty object, and the schema names what is missing
    parser = request.negotiator.select_parser(request, request.parsers)
    if parser is None:
        raise exceptions.UnsupportedMediaType(request.content_type or "(none)")
    return parser.parse(io.BytesIO(raw), request.content_type, request.parser_context)


_ERROR_FIELDS = {"error": serializers.CharField(), "message": serializers.CharField(),
                 "details": serializers.ListField(child=serializers.DictField())}


class RealtimeIngestView(APIView):
    """Third-party systems push telemetry: ``{"tenant_id", "data_points": [{"well_id", "timestamp",
    "parameter_name", "value", "unit", "quality_code"?, "source"?}]}`` (1-1000 points). Each point is mapped to the
    well's http_ingest tag whose address key is the parameter name, converted to the tag's unit and range-checked;
    the answer says which points were refused and why. Accepted points reach the historian, alarms and HMI through the
    gateway."""

    rbac_model = IngestBuffer
    rbac_action = "add"
    parser_classes = [JSONParser]  # negotiation only: read_json_body reads and bounds the body
    throttle_classes = [IngestRateThrottle]

    def throttled(self, request, wait):
        # DRF appends "Expected available in N seconds."; the envelope adds retry_after_seconds.
        raise exceptions.Throttled(wait, detail=f"{settings.INGEST_RATE_PER_MINUTE} requests/minute limit exceeded.")

    @extend_schema(request={"application/json": OPENAPI_SCHEMA}, responses={
        200: IngestResultSerializer, 400: OpenApiResponse(description="validation_error (schema), parse_error"),
        403: OpenApiResponse(description="permission_denied (role or tenant)"),
        413: OpenApiResponse(
            inline_serializer("IngestPayloadTooLarge", {**_ERROR_FIELDS, "max_bytes": serializers.IntegerField()}),
            description="payload_too_large: the body is over INGEST_MAX_BODY_BYTES (10 MiB); max_bytes is the limit"),
        415: OpenApiResponse(description="unsupported_media_type: send Content-Type: application/json"),
        429: OpenApiResponse(
            inline_serializer("IngestRateLimited",
                              {**_ERROR_FIELDS, "retry_after_seconds": serializers.IntegerField(min_value=1)}),
            description="rate_limit_exceeded: more than INGEST_RATE_PER_MINUTE (100) requests in a minute from "
                        "this client; retry_after_seconds (and the Retry-After header) say when to retry")},
        parameters=[OpenApiParameter("Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429],
                                     description="Seconds until the client may send again.")])
    def post(self, request):
        data = read_json_body(request)
        try:
            result = services.ingest(data, request.user)
        except services.SchemaError as exc:
            error = ValidationError()
            error.detail = {d["field"]: [d["error"]] for d in exc.details}
            raise error from exc
        return Response(result, status=status.HTTP_200_OK)


class DeadLetterSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadLetter
        fields = ["id", "source", "topic", "payload", "reason", "at"]


class DeadLetterViewSet(viewsets.ReadOnlyModelViewSet):
    """Input that could not be used, with its reason (admin and supervisors)."""

    queryset = DeadLetter.objects.all()
    serializer_class = DeadLetterSerializer
    filterset_fields = ["source"]
    search_fields = ["topic", "reason"]
    ordering_fields = ["at"]
