from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
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
from apps.sync.offline import check_client_id, client_id_field

AUDIT_RO = ["created_at", "updated_at"]


class RigSerializer(ScopedModelSerializer):
    class Meta:
        model = Rig
        fields = ["id", "name", "contractor", "rig_type", "site", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class IadcActivitySerializer(ScopedModelSerializer):
    class Meta:
        model = IadcActivity
        fields = ["id", "code", "subcode", "description", "productive"]


class TimeLogRowSerializer(ScopedModelSerializer):
    id = client_id_field()
    hours = serializers.SerializerMethodField()
    activity_code = serializers.CharField(source="activity.code", read_only=True)

    class Meta:
        model = TimeLogRow
        fields = ["id", "report", "start_time", "end_time", "hours", "activity", "activity_code", "md_from", "md_to",
                  "description", "npt", "npt_category", "responsible_party", "third_party_name", *AUDIT_RO]
        read_only_fields = AUDIT_RO

    def validate_id(self, value):
        return check_client_id(self, value)

    def get_hours(self, obj) -> float:
        from apps.drilling.timelog import duration_hours

        return round(duration_hours(obj, obj.report.day_start), 2)


class DrillingReportSerializer(ScopedModelSerializer):
    cumulative_cost = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    npt_hours = serializers.FloatField(read_only=True)
    time_log_problems = serializers.SerializerMethodField()

    class Meta:
        model = DrillingReport
        fields = ["id", "wellbore", "rig", "report_date", "report_number", "day_start", "status", "depth_md",
                  "depth_tvd", "daily_cost", "cumulative_cost", "personnel_on_board", "operations_summary",
                  "forecast", "remarks", "returned_reason", "submitted_at", "approved_at", "approved_by", "npt_hours",
                  "time_log_problems", *AUDIT_RO]
        read_only_fields = ["status", "returned_reason", "submitted_at", "approved_at", "approved_by", *AUDIT_RO]

    def get_time_log_problems(self, obj) -> list:
        from apps.drilling.services import time_log_problems

        return [{"rule": p.rule, "rows": list(p.rows), "message": p.message} for p in time_log_problems(obj)]


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class BitRecordSerializer(ScopedModelSerializer):
    footage = serializers.DecimalField(max_digits=9, decimal_places=2, read_only=True)

    class Meta:
        model = BitRecord
        fields = ["id", "wellbore", "bit_number", "size_mm", "iadc_code", "manufacturer", "serial_number", "tfa_mm2",
                  "depth_in", "depth_out", "footage", "hours", "dull_grade", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class BhaComponentSerializer(ScopedModelSerializer):
    accumulated_hours = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = BhaComponent
        fields = ["id", "bha", "position", "component_type", "description", "serial_number", "od_mm", "id_mm",
                  "length_m", "weight_kg", "top_connection", "bottom_connection", "accumulated_hours", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class BhaRunSerializer(ScopedModelSerializer):
    components = BhaComponentSerializer(many=True, read_only=True)

    class Meta:
        model = BhaRun
        fields = ["id", "wellbore", "run_number", "bit", "depth_in", "depth_out", "hours", "purpose", "components",
                  *AUDIT_RO]
        read_only_fields = AUDIT_RO


class MudRecordSerializer(ScopedModelSerializer):
    class Meta:
        model = MudRecord
        fields = ["id", "report", "checked_at", "depth_md", "mud_type", "density_kg_m3", "funnel_viscosity_s",
                  "plastic_viscosity_cp", "yield_point_pa", "gel_10s_pa", "gel_10m_pa", "fluid_loss_ml", "ph",
                  "chlorides_mg_l", "solids_pct", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class MudUsageSerializer(ScopedModelSerializer):
    class Meta:
        model = MudUsage
        fields = ["id", "report", "product", "item_code", "quantity", "unit", "unit_cost", "stock_issued",
                  "stock_reference", *AUDIT_RO]
        read_only_fields = ["stock_issued", "stock_reference", *AUDIT_RO]
