import django_filters

from apps.wells.models import Field, Site


class FieldFilter(django_filters.FilterSet):
    class Meta:
        model = Field
        fields = {"code": ["exact"], "country": ["exact"], "operator": ["exact", "icontains"]}


class SiteFilter(django_filters.FilterSet):
    field = django_filters.CharFilter(field_name="field__code", help_text="Field code.")

    class Meta:
        model = Site
        fields = ["field", "kind", "code"]
