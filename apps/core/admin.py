from django.contrib import admin

from apps.core.models import AuditEvent, Notification

admin.site.site_header = "Wellsite Edge administration"
admin.site.site_title = "Wellsite Edge"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["at", "actor_name", "channel", "action", "object_type", "object_repr", "ip"]
    list_filter = ["action", "channel", "object_type", "at"]
    search_fields = ["actor_name", "object_repr", "object_id", "message"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def get_queryset(self, request):
        return AuditEvent.objects.restrict(request.user, "view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "severity", "subject", "read_at", "emailed_at"]
    list_filter = ["severity", "read_at"]
    search_fields = ["subject", "recipient__username"]
