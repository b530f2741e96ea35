import csv

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.core.api.exceptions import Conflict
from apps.core.permissions import can
from scada import historian, services
from scada.api.serializers import (
    ApplyResultSerializer,
    ApplyTemplateSerializer,
    CurrentValueSerializer,
    DeviceSerializer,
    HistoryQuerySerializer,
    HistorySerializer,
    TagSerializer,
    TagTemplateSerializer,
    WriteCommandSerializer,
)
from scada.choices import Quality, WriteStatus
from scada.filters import DeviceFilter, TagFilter, WriteCommandFilter
from scada.models import Device, Tag, TagTemplate, WriteCommand


class DeviceViewSet(ScopedModelViewSet):
    queryset = Device.objects.select_related("site")
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "protocol", "created_at"]


class _Echo:
    def write(self, value):
        return value


class TagViewSet(ScopedModelViewSet):
    """Tags; ``/tags/<id>/history/`` downsampled history (min/avg/max buckets), ``/tags/<id>/history/csv/`` export."""

    queryset = Tag.objects.select_related("device")
    serializer_class = TagSerializer
    filterset_class = TagFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "key", "created_at"]

    def _query(self, request):
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistorySerializer,
                   filters=False, description="Downsampled history: raw rows if they fit in max_points, else "
                   "max_points buckets with min/avg/max/count.")
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        tag = self.get_object()
        q = self._query(request)
        data = historian.history(tag.key, q["start"], q["end"], q["max_points"])
        return Response({"tag": tag.name, "unit": tag.unit, "start": q["start"], "end": q["end"], **data})

    @extend_schema(parameters=[HistoryQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.STR},
                   filters=False)
    @action(detail=True, methods=["get"], url_path="history/csv", filter_backends=[], pagination_class=None)
    def history_csv(self, request, pk=None):
        """CSV of the raw rows (or of the buckets when max_points is given)."""
        tag = self.get_object()
        q = self._query(request)
        writer = csv.writer(_Echo())
        labels = dict(Quality.choices)

        def rows():
            if q["raw"]:
                yield writer.writerow(["timestamp", "tag", "value", "unit", "quality"])
                for ts, value, quality in historian.raw_rows(tag.key, q["start"], q["end"], limit=1_000_000):
                    yield writer.writerow([ts.isoformat(), tag.name, "" if value is None else repr(value), tag.unit,
                                           labels.get(quality, quality)])
            else:
                data = historian.history(tag.key, q["start"], q["end"], q["max_points"])
                yield writer.writerow(["timestamp", "tag", "min", "avg", "max", "count", "unit"])
                for p in data["points"]:
                    if "min" in p:
                        yield writer.writerow([p["ts"], tag.name, p["min"], p["avg"], p["max"], p["count"], tag.unit])
                    else:
                        yield writer.writerow([p["ts"], tag.name, p["value"], p["value"], p["value"], 1, tag.unit])

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{tag.name}-history.csv"'
        return response


class TagTemplateViewSet(ScopedModelViewSet):
    """Tag configuration templates (global master data, authored at the hub) with their items in one request;
    ``POST tag-templates/<id>/apply/`` creates or updates a device's ``<prefix>.<suffix>`` tags from one."""

    queryset = TagTemplate.objects.prefetch_related("items")
    serializer_class = TagTemplateSerializer
    filterset_fields = ["protocol"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "protocol", "version", "created_at"]

    def _full_clean(self, serializer):
        # The nested items are validated by the serializer; the template's own fields by the model.
        items = serializer.validated_data.pop("items", None)
        try:
            return super()._full_clean(serializer)
        finally:
            if items is not None:
                serializer.validated_data["items"] = items

    @extend_schema(request=ApplyTemplateSerializer, responses={201: ApplyResultSerializer, 200: ApplyResultSerializer},
                   description="Create (201) or update (200 when nothing new was created) the tags <prefix>.<suffix> "
                   "of the template on a device of your scope, with their HH/H/L/LL alarm definitions. Idempotent. "
                   "A device or well outside your scope answers 404.")
    @action(detail=True, methods=["post"], rbac_action="apply", filter_backends=[], pagination_class=None)
    def apply(self, request, pk=None):
        from apps.wells.models import Well

        template = self.get_object()
        params = ApplyTemplateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        user = request.user
        if not (can(user, Tag, "add") and can(user, Tag, "change")):
            raise exceptions.PermissionDenied("Your role may not create tags.")
        device = Device.objects.restrict(user, "change").filter(pk=data["device"]).first()
        if device is None:
            raise exceptions.NotFound("No such device.")
        well = None
        if data.get("well"):
            well = Well.objects.restrict(user, "view").filter(pk=data["well"]).first()
            if well is None:
                raise exceptions.NotFound("No such well.")
        result = services.apply_template(template, device, well=well, prefix=data["prefix"], offset=data["offset"],
                                         user=user)
        body = {
            "template": str(template.pk), "version": result.template.version,
            "created": [t.name for t in result.created], "updated": [t.name for t in result.updated],
            "unchanged": [t.name for t in result.unchanged], "alarms_written": result.alarms_written,
            "tags": TagSerializer(result.all_tags, many=True, context=self.get_serializer_context()).data,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class WriteCommandViewSet(ScopedModelViewSet):
    """Setpoint writes. A write can be changed only while PENDING; the gateway completes it."""

    queryset = WriteCommand.objects.select_related("tag", "created_by")
    serializer_class = WriteCommandSerializer
    filterset_class = WriteCommandFilter
    ordering_fields = ["created_at", "status"]

    def perform_update(self, serializer):
        if serializer.instance.status != WriteStatus.PENDING:
            raise Conflict(f"The write is already {serializer.instance.status}.")
        super().perform_update(serializer)


class ValueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Current value, quality and source timestamp of every tag in the user's scope (telemetry: ``.values()``)."""

    queryset = Tag.objects.all()
    serializer_class = CurrentValueSerializer
    filterset_class = TagFilter
    pagination_class = None

    def get_queryset(self):
        return Tag.objects.restrict(self.request.user, "view").filter(enabled=True)

    @extend_schema(responses=inline_serializer("CurrentValues", {
        "count": serializers.IntegerField(), "results": CurrentValueSerializer(many=True)}))
    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self.get_queryset()).order_by("key").values(
            "id", "key", "name", "unit", "current__value", "current__quality", "current__ts")
        labels = dict(Quality.choices)
        results = [{
            "tag": str(r["id"]), "key": r["key"], "name": r["name"], "unit": r["unit"], "value": r["current__value"],
            "quality": labels[r["current__quality"] if r["current__quality"] is not None else Quality.BAD],
            "ts": r["current__ts"],
        } for r in rows]
        return Response({"count": len(results), "results": results})
