from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from scada.ingest import services
from scada.ingest.models import DeadLetter, IngestBuffer
from scada.ingest.schema import INGEST_SCHEMA

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


class RealtimeIngestView(APIView):
    """Third-party systems push telemetry: ``{"tenant_id", "data_points": [{"well_id", "timestamp",
    "parameter_name", "value", "unit", "quality_code"?, "source"?}]}`` (1-1000 points). Each point is mapped to the
    well's http_ingest tag whose address key is the parameter name, converted to the tag's unit and range-checked;
    the answer says which points were refused and why. Accepted points reach the historian, alarms and HMI through the
    gateway."""

    rbac_model = IngestBuffer
    rbac_action = "add"

    @extend_schema(request={"application/json": OPENAPI_SCHEMA}, responses={
        200: IngestResultSerializer, 400: OpenApiResponse(description="validation_error (schema)"),
        403: OpenApiResponse(description="permission_denied (role or tenant)")})
    def post(self, request):
        try:
            result = services.ingest(request.data, request.user)
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
