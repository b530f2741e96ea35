import django_filters

from apps.maintenance.models import Equipment, PreventivePlan, WorkOrder, WorkOrderPart


class EquipmentFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")
    field = django_filters.CharFilter(field_name="site__field__code")

    class Meta:
        model = Equipment
        fields = ["site", "field", "well", "parent", "equipment_class", "level", "criticality", "tag_number"]


class WorkOrderFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")
    field = django_filters.CharFilter(field_name="site__field__code")
    equipment_class = django_filters.CharFilter(field_name="equipment__equipment_class")
    status = django_filters.MultipleChoiceFilter(choices=WorkOrder._meta.get_field("status").choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = WorkOrder
        fields = ["site", "field", "equipment", "equipment_class", "kind", "priority", "status", "plan", "afe_line",
                  "cost_center", "failure_mode", "created_after"]


class WorkOrderPartFilter(django_filters.FilterSet):
    class Meta:
        model = WorkOrderPart
        fields = ["work_order", "item", "location"]


class PreventivePlanFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="equipment__site__code")

    class Meta:
        model = PreventivePlan
        fields = ["equipment", "site", "trigger", "active"]
