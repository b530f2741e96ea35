from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.wells.models import Field, Site


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    fields = ["code", "name", "kind", "latitude", "longitude"]


@admin.register(Field)
class FieldAdmin(ScopedAdmin):
    list_display = ["code", "name", "country", "operator", "time_zone"]
    search_fields = ["code", "name", "operator"]
    list_filter = ["country"]
    inlines = [SiteInline]


@admin.register(Site)
class SiteAdmin(ScopedAdmin):
    list_display = ["code", "name", "field", "kind", "latitude", "longitude"]
    search_fields = ["code", "name", "field__code"]
    list_filter = ["kind", "field"]
