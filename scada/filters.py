import django_filters

from scada.choices import WriteStatus
from scada.models import Device, Tag, WriteCommand


class DeviceFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code", help_text="Site code.")
    field = django_filters.CharFilter(field_name="site__field__code", help_text="Field code.")

    class Meta:
        model = Device
        fields = ["site", "field", "protocol", "enabled"]


class TagFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="device__site__code", help_text="Site code.")
    device_name = django_filters.CharFilter(field_name="device__name")
    prefix = django_filters.CharFilter(field_name="name", lookup_expr="startswith", help_text="Name prefix, e.g. W01.")

    class Meta:
        model = Tag
        fields = ["device", "device_name", "site", "well", "equipment", "writable", "enabled", "data_type", "prefix"]


class WriteCommandFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=WriteStatus.choices)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = WriteCommand
        fields = ["status", "tag", "since"]
