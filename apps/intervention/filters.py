import django_filters

from apps.intervention.models import CoiledTubingReel, InterventionJob, ToolComponent, Toolstring


class InterventionJobFilter(django_filters.FilterSet):
    class Meta:
        model = InterventionJob
        fields = {"well": ["exact"], "job_type": ["exact"], "status": ["exact", "in"], "reel": ["exact"],
                  "planned_start": ["gte", "lte"], "cost_reference": ["exact"]}


class CoiledTubingReelFilter(django_filters.FilterSet):
    class Meta:
        model = CoiledTubingReel
        fields = {"site": ["exact"], "grade": ["exact"], "retired": ["exact"], "fatigue_pct": ["lte", "gte"]}


class ToolComponentFilter(django_filters.FilterSet):
    class Meta:
        model = ToolComponent
        fields = {"tool_type": ["exact"], "active": ["exact"], "od_mm": ["lte", "gte"], "code": ["exact"]}


class ToolstringFilter(django_filters.FilterSet):
    wellId = django_filters.UUIDFilter(field_name="well", label="Well id")  # noqa: N815 - reference contract name
    operationType = django_filters.CharFilter(field_name="operation_type", lookup_expr="iexact")  # noqa: N815

    class Meta:
        model = Toolstring
        fields = ["status", "job"]
