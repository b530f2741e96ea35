from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.base import ScopedModelViewSet
from apps.production import services
from apps.production.api import serializers as s
from apps.production.filters import (
    AllocationRunFilter,
    DailyWellProductionFilter,
    MeterFilter,
    MeterReadingFilter,
    WellTestFilter,
)
from apps.production.models import (
    AllocationRun,
    DailyWellProduction,
    Meter,
    MeterReading,
    UnitPreference,
    WellTest,
    unit_system_for,
)
from apps.sync.offline import ClientIdCreateMixin


class MeterViewSet(ScopedModelViewSet):
    queryset = Meter.objects.select_related("site").prefetch_related("wells")
    serializer_class = s.MeterSerializer
    filterset_class = MeterFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code"]


class MeterReadingViewSet(ScopedModelViewSet):
    queryset = MeterReading.objects.select_related("meter")
    serializer_class = s.MeterReadingSerializer
    filterset_class = MeterReadingFilter
    ordering_fields = ["reading_date"]


class DailyWellProductionViewSet(ClientIdCreateMixin, ScopedModelViewSet):
    """Daily well production; ``display`` converts to ``?units=field|metric`` or the user's preference. A create
    with a client ``id`` is idempotent (the daily entry form works offline and re-sends)."""

    queryset = DailyWellProduction.objects.select_related("well")
    serializer_class = s.DailyWellProductionSerializer
    filterset_class = DailyWellProductionFilter
    ordering_fields = ["prod_date"]


class WellTestViewSet(ScopedModelViewSet):
    queryset = WellTest.objects.select_related("well")
    serializer_class = s.WellTestSerializer
    filterset_class = WellTestFilter
    ordering_fields = ["test_date"]

    @action(detail=True, methods=["post"], rbac_action="validate", serializer_class=s.ReviewSerializer)
    def review(self, request, pk=None):
        """PENDING -> VALIDATED (``{"validated": true}``) or REJECTED (with a ``note``)."""
        test = self.get_object()
        body = s.ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        test = services.review_test(test, body.validated_data["validated"], body.validated_data["note"])
        return Response(s.WellTestSerializer(test, context=self.get_serializer_context()).data)


class AllocationRunViewSet(ScopedModelViewSet):
    """Allocation runs. POST ``{"meter", "period_start", "period_end"}`` runs (or reruns) the allocation."""

    http_method_names = ["get", "post", "head", "options"]
    queryset = AllocationRun.objects.select_related("meter").prefetch_related("lines__well")
    serializer_class = s.AllocationRunSerializer
    filterset_class = AllocationRunFilter
    ordering_fields = ["period_start"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = services.allocate(data["meter"], data["period_start"], data["period_end"])
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)


class UnitPreferenceView(APIView):
    """GET/PUT ``{"system": "field"|"metric"}``: the caller's own display unit system (any signed-in user)."""

    @extend_schema(responses=s.UnitPreferenceSerializer)
    def get(self, request):
        return Response({"system": unit_system_for(request.user)})

    @extend_schema(request=s.UnitPreferenceSerializer, responses=s.UnitPreferenceSerializer)
    def put(self, request):
        body = s.UnitPreferenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        UnitPreference.objects.update_or_create(user=request.user, defaults=body.validated_data)
        return Response({"system": body.validated_data["system"]})
