from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from apps.hr.models import (
    Certificate,
    CertificationType,
    Crew,
    CrewAssignment,
    Employee,
    Position,
    RigCertificationRequirement,
    RotationSchedule,
    Timesheet,
)

TS = ["created_at", "updated_at"]


class PositionSerializer(ScopedModelSerializer):
    class Meta:
        model = Position
        fields = ["id", "code", "title", "hourly_rate", *TS]
        read_only_fields = TS


class RotationScheduleSerializer(ScopedModelSerializer):
    class Meta:
        model = RotationSchedule
        fields = ["id", "name", "days_on", "days_off", *TS]
        read_only_fields = TS


class EmployeeSerializer(ScopedModelSerializer):
    rate = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)

    class Meta:
        model = Employee
        fields = ["id", "site", "user", "employee_number", "first_name", "last_name", "position", "hourly_rate",
                  "rate", "rotation", "rotation_start", "active", *TS]
        read_only_fields = TS
        extra_kwargs = {"hourly_rate": {"write_only": False}}


class CertificationTypeSerializer(ScopedModelSerializer):
    class Meta:
        model = CertificationType
        fields = ["id", "code", "name", "validity_months", *TS]
        read_only_fields = TS


class CertificateSerializer(ScopedModelSerializer):
    class Meta:
        model = Certificate
        fields = ["id", "employee", "certification_type", "number", "issued_on", "expires_on", "notified_at", *TS]
        read_only_fields = ["notified_at", *TS]
        extra_kwargs = {"expires_on": {"required": False}}


class CrewSerializer(ScopedModelSerializer):
    class Meta:
        model = Crew
        fields = ["id", "site", "name", "rig", "required_certifications", *TS]
        read_only_fields = TS


class RigCertificationRequirementSerializer(ScopedModelSerializer):
    class Meta:
        model = RigCertificationRequirement
        fields = ["id", "rig", "certification_type", *TS]
        read_only_fields = TS


class CrewAssignmentSerializer(ScopedModelSerializer):
    class Meta:
        model = CrewAssignment
        fields = ["id", "crew", "employee", "start_date", "end_date", *TS]
        read_only_fields = TS

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, CrewAssignment):
            for name in ("crew", "employee", "start_date"):
                fields[name].read_only = True
        return fields


class TimesheetSerializer(ScopedModelSerializer):
    class Meta:
        model = Timesheet
        fields = ["id", "employee", "date", "hours", "overtime_hours", "work_order", "job_reference", "afe_line",
                  "cost_center", "notes", "status", "approved_by", "approved_at", "cost", *TS]
        read_only_fields = ["status", "approved_by", "approved_at", "cost", *TS]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The period ends before it starts."})
        return attrs


class PobQuerySerializer(serializers.Serializer):
    site = serializers.CharField()
    date = serializers.DateField()
