import django_filters

from apps.production.models import AllocationRun, DailyWellProduction, Meter, MeterReading, WellTest


class MeterFilter(django_filters.FilterSet):
    class Meta:
        model = Meter
        fields = ["site", "kind", "phase", "code"]


class MeterReadingFilter(django_filters.FilterSet):
    class Meta:
        model = MeterReading
        fields = {"meter": ["exact"], "reading_date": ["exact", "gte", "lte"]}


class DailyWellProductionFilter(django_filters.FilterSet):
    class Meta:
        model = DailyWellProduction
        fields = {"well": ["exact"], "prod_date": ["exact", "gte", "lte"], "downtime_reason": ["exact"]}


class WellTestFilter(django_filters.FilterSet):
    class Meta:
        model = WellTest
        fields = {"well": ["exact"], "status": ["exact"], "test_date": ["gte", "lte"]}


class AllocationRunFilter(django_filters.FilterSet):
    class Meta:
        model = AllocationRun
        fields = {"meter": ["exact"], "period_start": ["exact", "gte", "lte"], "complete": ["exact"]}
