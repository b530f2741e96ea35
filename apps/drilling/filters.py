import django_filters

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


class RigFilter(django_filters.FilterSet):
    class Meta:
        model = Rig
        fields = ["site", "rig_type", "contractor"]


class IadcActivityFilter(django_filters.FilterSet):
    class Meta:
        model = IadcActivity
        fields = ["code", "subcode", "productive"]


class DrillingReportFilter(django_filters.FilterSet):
    well = django_filters.UUIDFilter(field_name="wellbore__well")

    class Meta:
        model = DrillingReport
        fields = {"wellbore": ["exact"], "rig": ["exact"], "status": ["exact", "in"],
                  "report_date": ["exact", "gte", "lte"]}


class TimeLogRowFilter(django_filters.FilterSet):
    class Meta:
        model = TimeLogRow
        fields = ["report", "npt", "npt_category", "responsible_party", "activity"]


class BitRecordFilter(django_filters.FilterSet):
    class Meta:
        model = BitRecord
        fields = ["wellbore", "bit_number", "serial_number", "iadc_code"]


class BhaRunFilter(django_filters.FilterSet):
    class Meta:
        model = BhaRun
        fields = ["wellbore", "run_number", "bit"]


class BhaComponentFilter(django_filters.FilterSet):
    class Meta:
        model = BhaComponent
        fields = ["bha", "component_type", "serial_number"]


class MudRecordFilter(django_filters.FilterSet):
    class Meta:
        model = MudRecord
        fields = ["report", "mud_type"]


class MudUsageFilter(django_filters.FilterSet):
    class Meta:
        model = MudUsage
        fields = ["report", "item_code", "stock_issued"]
