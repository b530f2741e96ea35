from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from scada.models import CurrentValue, Device, Tag, TagTemplate, TagTemplateItem, WriteCommand


class TagInline(admin.TabularInline):
    model = Tag
    fields = ("name", "address", "data_type", "scaling", "unit", "writable", "enabled")
    extra = 0
    show_change_link = True


@admin.register(Device)
class DeviceAdmin(ScopedAdmin):
    list_display = ("name", "site", "protocol", "poll_interval_ms", "enabled")
    list_filter = ("protocol", "enabled", "site__field", "site")
    search_fields = ("name", "description")
    autocomplete_fields = ("site",)
    inlines = [TagInline]


class WriteInline(admin.TabularInline):
    model = WriteCommand
    fields = ("value", "status", "reason", "created_by", "created_at", "completed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Tag)
class TagAdmin(ScopedAdmin):
    list_display = ("name", "key", "device", "data_type", "scaling", "unit", "writable", "enabled")
    list_filter = ("device__protocol", "data_type", "scaling", "writable", "enabled", "device__site")
    search_fields = ("name", "description", "device__name")
    readonly_fields = (*ScopedAdmin.readonly_fields, "key", "template", "template_version")
    raw_id_fields = ("well", "equipment")
    inlines = [WriteInline]


@admin.register(WriteCommand)
class WriteCommandAdmin(ScopedAdmin):
    list_display = ("tag", "value", "status", "created_by", "created_at", "completed_at")
    list_filter = ("status", "tag__device__site")
    search_fields = ("tag__name", "reason")
    readonly_fields = (*ScopedAdmin.readonly_fields, "status", "reason", "completed_at")
    raw_id_fields = ("tag",)


@admin.register(CurrentValue)
class CurrentValueAdmin(admin.ModelAdmin):
    list_display = ("tag", "value", "quality", "ts", "updated_at")
    list_filter = ("quality",)
    search_fields = ("tag__name",)

    def get_queryset(self, request):
        return CurrentValue.objects.restrict(request.user, "view").select_related("tag")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TagTemplateItemInline(admin.TabularInline):
    model = TagTemplateItem
    fields = ("suffix", "description", "address", "data_type", "scaling", "eng_low", "eng_high", "unit", "deadband",
              "deadband_mode", "max_interval_s", "writable", "alarms")
    extra = 0


@admin.register(TagTemplate)
class TagTemplateAdmin(ScopedAdmin):
    """A template and its items; one save bumps the version once (scada.models.TagTemplate.editing)."""

    list_display = ("name", "protocol", "version", "updated_at")
    list_filter = ("protocol",)
    search_fields = ("name", "description")
    readonly_fields = (*ScopedAdmin.readonly_fields, "version")
    inlines = [TagTemplateItemInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.save()
        # A change is saved in save_related, with the items, so the version goes up once.

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        with obj.editing(bump=change):
            if change:
                obj.save()
            super().save_related(request, form, formsets, change)
