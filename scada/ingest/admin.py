from django.contrib import admin

from scada.ingest.models import DeadLetter, IngestionRecord


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnly):
    list_display = ["at", "source", "topic", "reason"]
    list_filter = ["source", "at"]
    search_fields = ["topic", "reason", "payload"]
    date_hierarchy = "at"


@admin.register(IngestionRecord)
class IngestionRecordAdmin(ReadOnly):
    list_display = ["at", "ingestion_id", "tenant_id", "user", "source", "accepted", "rejected"]
    list_filter = ["tenant_id", "at"]
    search_fields = ["ingestion_id", "source"]
