from django.db import transaction
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.wells import services
from apps.wells.api.serializers import (
    CompletionRestrictionSerializer,
    CompletionSerializer,
    FieldSerializer,
    PvtSampleSerializer,
    ReservoirSerializer,
    SiteSerializer,
    SurveyStationSerializer,
    TrajectorySerializer,
    WellboreSerializer,
    WellSerializer,
    WellStatusChangeSerializer,
)
from apps.wells.filters import (
    CompletionFilter,
    CompletionRestrictionFilter,
    FieldFilter,
    PvtSampleFilter,
    ReservoirFilter,
    SiteFilter,
    SurveyStationFilter,
    TrajectoryFilter,
    WellboreFilter,
    WellFilter,
    WellStatusChangeFilter,
)
from apps.wells.models import (
    Completion,
    CompletionRestriction,
    Field,
    PvtSample,
    Reservoir,
    Site,
    SurveyStation,
    Trajectory,
    Well,
    Wellbore,
    WellStatusChange,
)


class FieldViewSet(ScopedModelViewSet):
    queryset = Field.objects.all()
    serializer_class = FieldSerializer
    filterset_class = FieldFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "created_at"]


class SiteViewSet(ScopedModelViewSet):
    queryset = Site.objects.select_related("field")
    serializer_class = SiteSerializer
    filterset_class = SiteFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "created_at"]


class WellViewSet(ScopedModelViewSet):
    queryset = Well.objects.select_related("site__field")
    serializer_class = WellSerializer
    filterset_class = WellFilter
    search_fields = ["name", "uwi"]
    ordering_fields = ["name", "uwi", "status", "spud_date", "created_at"]


class WellStatusChangeViewSet(ScopedModelViewSet):
    """The status history of the wells (read-only: rows are written when a well's status changes)."""

    http_method_names = ["get", "head", "options"]
    queryset = WellStatusChange.objects.select_related("well")
    serializer_class = WellStatusChangeSerializer
    filterset_class = WellStatusChangeFilter
    ordering_fields = ["created_at"]


class WellboreViewSet(ScopedModelViewSet):
    queryset = Wellbore.objects.select_related("well")
    serializer_class = WellboreSerializer
    filterset_class = WellboreFilter
    search_fields = ["name", "well__name"]
    ordering_fields = ["name", "created_at"]


class ReservoirViewSet(ScopedModelViewSet):
    queryset = Reservoir.objects.select_related("field")
    serializer_class = ReservoirSerializer
    filterset_class = ReservoirFilter
    search_fields = ["name", "formation"]
    ordering_fields = ["name", "created_at"]


class CompletionViewSet(ScopedModelViewSet):
    queryset = Completion.objects.select_related("wellbore__well").prefetch_related("restrictions")
    serializer_class = CompletionSerializer
    filterset_class = CompletionFilter
    search_fields = ["name", "wellbore__well__name"]
    ordering_fields = ["name", "installed_on", "created_at"]


class CompletionRestrictionViewSet(ScopedModelViewSet):
    queryset = CompletionRestriction.objects.select_related("completion")
    serializer_class = CompletionRestrictionSerializer
    filterset_class = CompletionRestrictionFilter
    search_fields = ["description"]
    ordering_fields = ["depth_md", "min_id_mm", "created_at"]


class PvtSampleViewSet(ScopedModelViewSet):
    queryset = PvtSample.objects.select_related("well", "reservoir")
    serializer_class = PvtSampleSerializer
    filterset_class = PvtSampleFilter
    search_fields = ["laboratory", "well__name"]
    ordering_fields = ["sampled_on", "created_at"]


class TrajectoryViewSet(ScopedModelViewSet):
    queryset = Trajectory.objects.select_related("wellbore__well")
    serializer_class = TrajectorySerializer
    filterset_class = TrajectoryFilter
    search_fields = ["name", "wellbore__well__name"]
    ordering_fields = ["name", "created_at"]

    def perform_update(self, serializer):
        with transaction.atomic():
            super().perform_update(serializer)
            services.recompute_trajectory(serializer.instance)

    @action(detail=True, methods=["post"], rbac_action="change", url_path="make-definitive")
    def make_definitive(self, request, pk=None):
        """Mark this trajectory definitive (the wellbore's previous definitive one is demoted)."""
        trajectory = services.make_definitive(self.get_object())
        return Response(self.get_serializer(trajectory).data)

    @action(detail=True, methods=["get"], rbac_action="view")
    def stations(self, request, pk=None):
        trajectory = self.get_object()
        data = SurveyStationSerializer(trajectory.stations.all(), many=True, context=self.get_serializer_context())
        return Response(data.data)


class SurveyStationViewSet(ScopedModelViewSet):
    """Survey stations; every write recomputes the trajectory (minimum curvature)."""

    queryset = SurveyStation.objects.select_related("trajectory")
    serializer_class = SurveyStationSerializer
    filterset_class = SurveyStationFilter
    ordering_fields = ["md"]

    def perform_create(self, serializer):
        with transaction.atomic():
            super().perform_create(serializer)
            services.recompute_trajectory(serializer.instance.trajectory)

    def perform_update(self, serializer):
        with transaction.atomic():
            super().perform_update(serializer)
            services.recompute_trajectory(serializer.instance.trajectory)

    def perform_destroy(self, instance):
        with transaction.atomic():
            trajectory = instance.trajectory
            instance.delete()
            services.recompute_trajectory(trajectory)


