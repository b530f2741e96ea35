from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.intervention import configurator, services
from apps.intervention.api.serializers import (
    CoiledTubingReelSerializer,
    CompleteJobSerializer,
    InterventionJobSerializer,
    ToolComponentSerializer,
    ToolstringCheckSerializer,
    ToolstringSerializer,
)
from apps.intervention.filters import (
    CoiledTubingReelFilter,
    InterventionJobFilter,
    ToolComponentFilter,
    ToolstringFilter,
)
from apps.intervention.models import CoiledTubingReel, InterventionJob, ToolComponent, Toolstring
from apps.sync.offline import ClientIdCreateMixin


class CoiledTubingReelViewSet(ScopedModelViewSet):
    queryset = CoiledTubingReel.objects.select_related("site")
    serializer_class = CoiledTubingReelSerializer
    filterset_class = CoiledTubingReelFilter
    search_fields = ["serial_number", "grade"]
    ordering_fields = ["serial_number", "fatigue_pct", "created_at"]


class InterventionJobViewSet(ScopedModelViewSet):
    queryset = InterventionJob.objects.select_related("well", "reel")
    serializer_class = InterventionJobSerializer
    filterset_class = InterventionJobFilter
    search_fields = ["objective", "well__name", "cost_reference", "contractor"]
    ordering_fields = ["planned_start", "created_at"]

    @action(detail=True, methods=["post"], rbac_action="change")
    def start(self, request, pk=None):
        return Response(self.get_serializer(services.start_job(self.get_object())).data)

    @action(detail=True, methods=["post"], rbac_action="change", serializer_class=CompleteJobSerializer)
    def complete(self, request, pk=None):
        job = self.get_object()
        body = CompleteJobSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = services.complete_job(job, **body.validated_data)
        return Response(InterventionJobSerializer(job, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"], rbac_action="change")
    def cancel(self, request, pk=None):
        job = services.cancel_job(self.get_object(), reason=str(request.data.get("reason", ""))[:200])
        return Response(self.get_serializer(job).data)


class ToolComponentViewSet(ScopedModelViewSet):
    """The tool catalogue (master data shared by every field)."""

    queryset = ToolComponent.objects.all()
    serializer_class = ToolComponentSerializer
    filterset_class = ToolComponentFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "tool_type", "od_mm"]


class ToolstringViewSet(ScopedModelViewSet):
    """Toolstrings, with the configurator's totals and findings in ``check``."""

    queryset = Toolstring.objects.select_related("well").prefetch_related("items")
    serializer_class = ToolstringSerializer
    filterset_class = ToolstringFilter
    search_fields = ["name", "operation_type", "well__name"]
    ordering_fields = ["name", "updated_at", "created_at"]

    @action(detail=True, methods=["post"], rbac_action="approve")
    def approve(self, request, pk=None):
        """DRAFT -> APPROVED; 400 listing the configurator's errors if any."""
        toolstring = services.approve_toolstring(self.get_object(), request.user)
        return Response(self.get_serializer(toolstring).data)

    @action(detail=False, methods=["post"], rbac_action="view", serializer_class=ToolstringCheckSerializer)
    def check(self, request):
        """Check an unsaved string (the builder page calls this on each change): totals and findings."""
        body = ToolstringCheckSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        cond = configurator.Conditions(well=data.get("well"), wire_size_mm=data.get("wire_size_mm"),
                                       whp_kpa=data.get("whp_kpa"), lubricator_length_m=data.get("lubricator_length_m"))
        return Response(configurator.check(data["tools"], cond).as_dict())


class ToolstringContractViewSet(ClientIdCreateMixin, ToolstringViewSet):
    """``/api/v1/toolstrings``: the reference contract's shapes (``{"success": true, "toolstring": {...}}``) over the
    same model, rules and scoping. Errors keep the project's envelope. A create whose client-supplied ``id`` already
    exists in the caller's scope answers 200 with the stored toolstring (a retried offline create), not a duplicate."""

    pagination_class = None

    def list(self, request, *args, **kwargs):
        rows = self.get_serializer(self.filter_queryset(self.get_queryset()), many=True).data
        return Response({"success": True, "count": len(rows), "toolstrings": rows})

    def retrieve(self, request, *args, **kwargs):
        return Response({"success": True, "toolstring": self.get_serializer(self.get_object()).data})

    def create(self, request, *args, **kwargs):
        # ClientIdCreateMixin answers a resend with the stored record (200); the contract wraps either answer.
        response = super().create(request, *args, **kwargs)
        if response.status_code == status.HTTP_200_OK:
            return Response({"success": True, "message": "Toolstring configuration already stored "
                             "(idempotent retry).", "toolstring": response.data})
        return Response({"success": True, "message": "Toolstring configuration created (queued for sync).",
                         "toolstring": response.data}, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        return Response({"success": True, "toolstring": response.data})

    def destroy(self, request, *args, **kwargs):
        super().destroy(request, *args, **kwargs)
        return Response({"success": True, "message": "Toolstring configuration deleted."})
