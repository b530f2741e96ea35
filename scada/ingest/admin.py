from django.contrib import admin

from scada.ingest.models import DeadLetter, ImportedFile, IngestionRecord


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


@admin.register(ImportedFile)
class ImportedFileAdmin(ReadOnly):
    """The CSV watcher's ledger: which export was imported when, with its counts (dead letters: source csv)."""

    list_display = ["first_seen_at", "device", "name", "status", "rows_accepted", "rows_rejected", "samples",
                    "imported_at"]
    list_filter = ["status", "device", "imported_at"]
    search_fields = ["name", "sha256", "archived_as", "reason"]
    date_hierarchy = "first_seen_at"
    list_select_related = ["device"]
