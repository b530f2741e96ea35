from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from apps.inventory.models import Item, Location
from apps.maintenance.choices import FailureCause, FailureMode
from apps.maintenance.models import Equipment, PreventivePlan, WorkOrder, WorkOrderPart

TS = ["created_at", "updated_at"]


class EquipmentSerializer(ScopedModelSerializer):
    class Meta:
        model = Equipment
        fields = ["id", "site", "well", "parent", "tag_number", "name", "equipment_class", "level", "manufacturer",
                  "model_number", "serial_number", "criticality", "in_service_date", "run_hours", "run_hours_at",
                  "run_status_tag", "run_hours_tag", *TS]
        read_only_fields = ["run_hours_at", *TS]


class WorkOrderSerializer(ScopedModelSerializer):
    class Meta:
        model = WorkOrder
        fields = ["id", "number", "site", "equipment", "kind", "priority", "status", "title", "description",
                  "failure_mode", "failure_cause", "afe_line", "cost_center", "planned_start", "planned_end",
                  "actual_start", "actual_end", "planned_at", "planned_by", "started_by", "completed_by", "closed_at",
                  "closed_by", "plan", "due_date", "due_run_hours", "alarm_key", "context", *TS]
        read_only_fields = [f for f in fields if f not in (
            "equipment", "kind", "priority", "title", "description", "failure_mode", "failure_cause", "afe_line",
            "cost_center", "planned_start", "planned_end")]


class TransitionSerializer(serializers.Serializer):
    planned_start = serializers.DateTimeField(required=False)
    planned_end = serializers.DateTimeField(required=False)
    at = serializers.DateTimeField(required=False)
    failure_mode = serializers.ChoiceField(choices=FailureMode.choices, required=False)
    failure_cause = serializers.ChoiceField(choices=FailureCause.choices, required=False)
    run_hours = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)


class WorkOrderPartSerializer(ScopedModelSerializer):
    """POST reserves the part (refused when not available); ``issue`` issues it."""

    item = serializers.PrimaryKeyRelatedField(queryset=Item.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())

    class Meta:
        model = WorkOrderPart
        fields = ["id", "work_order", "item", "location", "quantity", "reservation", "issued_quantity",
                  "issued_cost", *TS]
        read_only_fields = ["reservation", "issued_quantity", "issued_cost", *TS]

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, WorkOrderPart):
            for name in ("work_order", "item", "location", "quantity"):
                fields[name].read_only = True
        return fields


class IssuePartSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, required=False)


class PreventivePlanSerializer(ScopedModelSerializer):
    next_due_date = serializers.DateField(read_only=True)
    next_due_hours = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = PreventivePlan
        fields = ["id", "equipment", "name", "task", "trigger", "interval_days", "interval_hours", "start_date",
                  "last_done_date", "last_done_hours", "lead_days", "priority", "afe_line", "cost_center", "active",
                  "next_due_date", "next_due_hours", *TS]
        read_only_fields = ["last_done_date", "last_done_hours", *TS]


class RunHoursSerializer(serializers.Serializer):
    run_hours = serializers.DecimalField(max_digits=12, decimal_places=2)
    at = serializers.DateTimeField(required=False)
