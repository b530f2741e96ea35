from django.contrib import admin, messages

from apps.sync import services
from apps.sync.choices import EventState
from apps.sync.models import AggregateVersion, EdgeCredential, OutboxEvent, SyncState


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["sequence", "aggregate_type", "aggregate_id", "op", "state", "attempts", "created_at",
                    "delivered_at"]
    list_filter = ["state", "op", "aggregate_type"]
    search_fields = ["aggregate_id", "event_id", "last_error"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["retry"]

    @admin.action(description="Retry the selected quarantined events")
    def retry(self, request, queryset):
        n = services.retry_quarantined(queryset.filter(state=EventState.QUARANTINED).values_list("sequence",
                                                                                                 flat=True))
        self.message_user(request, f"{n} event(s) back in the queue.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = ["key", "last_attempt_at", "last_success_at", "cloud_reachable", "consecutive_failures",
                    "pull_cursor", "alert_level"]
    search_fields = ["key"]
    list_filter = ["cloud_reachable", "alert_level"]


@admin.register(EdgeCredential)
class EdgeCredentialAdmin(admin.ModelAdmin):
    list_display = ["edge_id", "is_active", "last_push_at", "events_received", "reported_backlog",
                    "reported_quarantined", "rotated_at"]
    search_fields = ["edge_id", "description"]
    list_filter = ["is_active"]
    readonly_fields = ["token_hash", "previous_token_hash", "previous_valid_until", "created_at", "rotated_at",
                       "last_seen_at", "last_push_at", "last_pull_at", "events_received", "reported_backlog",
                       "reported_quarantined", "reported_oldest_age"]


# ReceivedEvent (the hub's receipts) has a composite primary key (edge_id, event_id): Django 5.2's admin cannot list
# such models. The hub page /sync/ shows each edge's last sequence and counts; receipts are queried in the shell.


@admin.register(AggregateVersion)
class AggregateVersionAdmin(admin.ModelAdmin):
    list_display = ["aggregate_type", "aggregate_id", "origin", "sequence", "applied_at"]
    list_filter = ["aggregate_type", "origin"]
    search_fields = ["aggregate_id"]
