from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from scada.alarms.models import Alarm, AlarmDefinition, AlarmFlood, AlarmJournal, AlarmNotificationRule


@admin.register(AlarmDefinition)
class AlarmDefinitionAdmin(ScopedAdmin):
    list_display = ["tag", "kind", "setpoint", "deadband", "priority", "message", "enabled"]
    list_filter = ["kind", "priority", "enabled", "tag__device__site"]
    search_fields = ["tag__name", "message", "cause"]
    autocomplete_fields = []
    fieldsets = [
        (None, {"fields": ["tag", "kind", "setpoint", "deadband", "on_delay_s", "off_delay_s", "priority",
                           "message", "enabled", "suppress_when_shut_in", "create_work_order"]}),
        ("Rationalisation", {"fields": ["cause", "consequence", "operator_action"]}),
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return self.model.objects.restrict(request.user, "view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alarm)
class AlarmAdmin(ReadOnlyAdmin):
    """State changes go through the operator actions (API, alarm summary page), never edited by hand."""

    list_display = ["definition", "site", "priority", "state", "active", "occurrence", "raised_at", "acked_by"]
    list_filter = ["state", "priority", "active", "site"]
    search_fields = ["definition__tag__name", "definition__message"]


@admin.register(AlarmJournal)
class AlarmJournalAdmin(ReadOnlyAdmin):
    list_display = ["at", "alarm", "event", "from_state", "to_state", "value", "actor_name", "comment"]
    list_filter = ["event", "site", "at"]
    search_fields = ["tag_name", "actor_name", "comment"]
    date_hierarchy = "at"


@admin.register(AlarmFlood)
class AlarmFloodAdmin(ReadOnlyAdmin):
    list_display = ["site", "active", "since", "rate"]


@admin.register(AlarmNotificationRule)
class AlarmNotificationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "min_priority", "site", "field", "role", "enabled"]
    list_filter = ["min_priority", "role", "enabled"]
