from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.drilling import services
from apps.drilling.api import serializers as s
from apps.drilling.filters import (
    BhaComponentFilter,
    BhaRunFilter,
    BitRecordFilter,
    DrillingReportFilter,
    IadcActivityFilter,
    MudRecordFilter,
    MudUsageFilter,
    RigFilter,
    TimeLogRowFilter,
)
from apps.drilling.models import (
    BhaComponent,
    BhaRun,
    BitRecord,
    DrillingReport,
    IadcActivity,
    MudRecord,
    MudUsage,
    Rig,
    TimeLogRow,
)
from apps.sync.offline import ClientIdCreateMixin


class RigViewSet(ScopedModelViewSet):
    queryset = Rig.objects.select_related("site")
    serializer_class = s.RigSerializer
    filterset_class = RigFilter
    search_fields = ["name", "contractor"]
    ordering_fields = ["name"]


class IadcActivityViewSet(ScopedModelViewSet):
    """The IADC activity code table (shipped by a data migration; read-only except for administrators)."""

    queryset = IadcActivity.objects.all()
    serializer_class = s.IadcActivitySerializer
    filterset_class = IadcActivityFilter
    search_fields = ["description", "code"]


class DrillingReportViewSet(ScopedModelViewSet):
    """Daily drilling reports. Workflow: ``submit`` (time-log rules), ``approve`` and ``return`` (supervisors)."""

    queryset = DrillingReport.objects.select_related("wellbore__well", "rig").prefetch_related("time_log")
    serializer_class = s.DrillingReportSerializer
    filterset_class = DrillingReportFilter
    search_fields = ["wellbore__well__name", "remarks", "operations_summary"]
    ordering_fields = ["report_date", "created_at"]

    @action(detail=True, methods=["post"], rbac_action="submit")
    def submit(self, request, pk=None):
        """DRAFT -> SUBMITTED; 400 naming the broken time-log rule and rows (``time_log.<row>``)."""
        return Response(self.get_serializer(services.submit(self.get_object(), request.user)).data)

    @action(detail=True, methods=["post"], rbac_action="approve")
    def approve(self, request, pk=None):
        return Response(self.get_serializer(services.approve(self.get_object(), request.user)).data)

    @action(detail=True, methods=["post"], rbac_action="approve", url_path="return",
            serializer_class=s.ReturnSerializer)
    def return_to_draft(self, request, pk=None):
        report = self.get_object()
        body = s.ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.return_to_draft(report, request.user, body.validated_data["reason"])
        return Response(s.DrillingReportSerializer(report, context=self.get_serializer_context()).data)


class TimeLogRowViewSet(ClientIdCreateMixin, ScopedModelViewSet):
    """IADC time-log rows. A create with a client ``id`` is idempotent (the time-log form works offline)."""

    queryset = TimeLogRow.objects.select_related("report", "activity")
    serializer_class = s.TimeLogRowSerializer
    filterset_class = TimeLogRowFilter
    search_fields = ["description"]
    ordering_fields = ["start_time"]

    def perform_destroy(self, instance):
        instance.full_clean()  # a row of a submitted report cannot go either
        instance.delete()


class BitRecordViewSet(ScopedModelViewSet):
    queryset = BitRecord.objects.select_related("wellbore")
    serializer_class = s.BitRecordSerializer
    filterset_class = BitRecordFilter
    search_fields = ["serial_number", "bit_number", "manufacturer"]
    ordering_fields = ["depth_in"]


class BhaRunViewSet(ScopedModelViewSet):
    queryset = BhaRun.objects.select_related("wellbore").prefetch_related("components")
    serializer_class = s.BhaRunSerializer
    filterset_class = BhaRunFilter
    ordering_fields = ["run_number"]


class BhaComponentViewSet(ScopedModelViewSet):
    queryset = BhaComponent.objects.select_related("bha")
    serializer_class = s.BhaComponentSerializer
    filterset_class = BhaComponentFilter
    search_fields = ["serial_number", "description"]
    ordering_fields = ["position"]


class MudRecordViewSet(ScopedModelViewSet):
    queryset = MudRecord.objects.select_related("report")
    serializer_class = s.MudRecordSerializer
    filterset_class = MudRecordFilter
    ordering_fields = ["checked_at"]


class MudUsageViewSet(ScopedModelViewSet):
    queryset = MudUsage.objects.select_related("report")
    serializer_class = s.MudUsageSerializer
    filterset_class = MudUsageFilter
    search_fields = ["product", "item_code"]
