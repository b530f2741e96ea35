import django_filters

from scada.alarms.choices import AlarmEvent, AlarmState, Priority
from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal


class AlarmFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code", help_text="Site code (area).")
    field = django_filters.CharFilter(field_name="site__field__code", help_text="Field code.")
    state = django_filters.MultipleChoiceFilter(choices=AlarmState.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    tag = django_filters.CharFilter(field_name="definition__tag__name")
    kind = django_filters.CharFilter(field_name="definition__kind")
    since = django_filters.IsoDateTimeFilter(field_name="raised_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="raised_at", lookup_expr="lt")
    standing = django_filters.BooleanFilter(method="filter_standing", help_text="true: active or unacknowledged.")

    class Meta:
        model = Alarm
        fields = ["site", "field", "state", "priority", "active", "tag", "kind", "since", "until", "standing"]

    def filter_standing(self, queryset, name, value):
        standing = [AlarmState.UNACKED, AlarmState.ACKED, AlarmState.RTN_UNACKED]
        return queryset.filter(state__in=standing) if value else queryset.exclude(state__in=standing)


class AlarmJournalFilter(django_filters.FilterSet):
    alarm = django_filters.UUIDFilter(field_name="alarm_id")
    site = django_filters.CharFilter(field_name="site__code")
    event = django_filters.MultipleChoiceFilter(choices=AlarmEvent.choices)
    tag = django_filters.CharFilter(field_name="tag_name")
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AlarmJournal
        fields = ["alarm", "site", "event", "tag", "since", "until"]


class AlarmDefinitionFilter(django_filters.FilterSet):
    tag = django_filters.CharFilter(field_name="tag__name")
    site = django_filters.CharFilter(field_name="tag__device__site__code")

    class Meta:
        model = AlarmDefinition
        fields = ["tag", "site", "kind", "priority", "enabled"]
