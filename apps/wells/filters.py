import django_filters

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


class FieldFilter(django_filters.FilterSet):
    class Meta:
        model = Field
        fields = {"code": ["exact"], "country": ["exact"], "operator": ["exact", "icontains"]}


class SiteFilter(django_filters.FilterSet):
    field = django_filters.CharFilter(field_name="field__code", help_text="Field code.")

    class Meta:
        model = Site
        fields = ["field", "kind", "code"]


class WellFilter(django_filters.FilterSet):
    field = django_filters.CharFilter(field_name="site__field__code", help_text="Field code.")
    site_code = django_filters.CharFilter(field_name="site__code", help_text="Site code.")

    class Meta:
        model = Well
        fields = {"site": ["exact"], "well_type": ["exact"], "status": ["exact", "in"], "name": ["exact", "icontains"],
                  "uwi": ["exact"], "spud_date": ["gte", "lte"]}


class WellStatusChangeFilter(django_filters.FilterSet):
    class Meta:
        model = WellStatusChange
        fields = ["well", "to_status"]


class WellboreFilter(django_filters.FilterSet):
    class Meta:
        model = Wellbore
        fields = ["well", "parent", "status", "name"]


class ReservoirFilter(django_filters.FilterSet):
    field_code = django_filters.CharFilter(field_name="field__code")

    class Meta:
        model = Reservoir
        fields = ["field", "fluid_type", "name"]


class CompletionFilter(django_filters.FilterSet):
    well = django_filters.UUIDFilter(field_name="wellbore__well")

    class Meta:
        model = Completion
        fields = ["wellbore", "well", "active", "reservoir"]


class CompletionRestrictionFilter(django_filters.FilterSet):
    class Meta:
        model = CompletionRestriction
        fields = {"completion": ["exact"], "kind": ["exact"], "min_id_mm": ["lte", "gte"]}


class PvtSampleFilter(django_filters.FilterSet):
    class Meta:
        model = PvtSample
        fields = {"well": ["exact"], "reservoir": ["exact"], "kind": ["exact"], "sampled_on": ["gte", "lte"]}


class TrajectoryFilter(django_filters.FilterSet):
    well = django_filters.UUIDFilter(field_name="wellbore__well")

    class Meta:
        model = Trajectory
        fields = ["wellbore", "well", "definitive"]


class SurveyStationFilter(django_filters.FilterSet):
    class Meta:
        model = SurveyStation
        fields = {"trajectory": ["exact"], "md": ["gte", "lte"]}
