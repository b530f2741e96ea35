from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.intervention.models import CoiledTubingReel, InterventionJob, ToolComponent, Toolstring, ToolstringItem


@admin.register(CoiledTubingReel)
class CoiledTubingReelAdmin(ScopedAdmin):
    list_display = ["serial_number", "site", "od_mm", "wall_thickness_mm", "grade", "fatigue_pct", "retired"]
    search_fields = ["serial_number", "grade"]
    list_filter = ["grade", "retired", "site__field"]


class ToolstringInline(admin.TabularInline):
    model = Toolstring
    extra = 0
    fields = ["name", "operation_type", "status"]
    readonly_fields = ["status"]


@admin.register(InterventionJob)
class InterventionJobAdmin(ScopedAdmin):
    list_display = ["well", "job_type", "status", "planned_start", "actual_start", "reel", "cost_reference"]
    search_fields = ["well__name", "objective", "cost_reference", "contractor"]
    list_filter = ["job_type", "status", "well__site__field"]
    date_hierarchy = "planned_start"
    readonly_fields = (*ScopedAdmin.readonly_fields, "status", "actual_start", "actual_end", "fatigue_added_pct",
                       "running_length_m")
    inlines = [ToolstringInline]


@admin.register(ToolComponent)
class ToolComponentAdmin(ScopedAdmin):
    list_display = ["code", "name", "tool_type", "od_mm", "fishing_neck_od_mm", "length_m", "weight_kg",
                    "top_connection", "bottom_connection", "active"]
    search_fields = ["code", "name"]
    list_filter = ["tool_type", "active", "top_connection"]


class ToolstringItemInline(admin.TabularInline):
    model = ToolstringItem
    extra = 0
    fields = ["position", "component", "name", "tool_type", "od_mm", "length_m", "weight_kg", "top_connection",
              "top_gender", "bottom_connection", "bottom_gender", "rotating"]
    ordering = ["position"]


@admin.register(Toolstring)
class ToolstringAdmin(ScopedAdmin):
    list_display = ["name", "well", "operation_type", "status", "synced", "updated_at"]
    search_fields = ["name", "operation_type", "well__name"]
    list_filter = ["status", "synced", "operation_type"]
    readonly_fields = (*ScopedAdmin.readonly_fields, "status", "approved_at", "approved_by", "synced")
    inlines = [ToolstringItemInline]
