import django_filters

from apps.core.models import AuditEvent, Notification


class AuditEventFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="actor_name", help_text="Username of the actor.")
    actor = django_filters.UUIDFilter(field_name="actor_id")
    object_type = django_filters.CharFilter(help_text="app_label.model, e.g. wells.well")
    object_id = django_filters.CharFilter()
    action = django_filters.MultipleChoiceFilter(choices=AuditEvent._meta.get_field("action").choices)
    channel = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["user", "actor", "object_type", "object_id", "action", "channel", "since", "until"]


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")
    severity = django_filters.CharFilter()

    class Meta:
        model = Notification
        fields = ["unread", "severity"]
