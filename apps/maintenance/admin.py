from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.maintenance import models as m

RO = ScopedAdmin.readonly_fields


class ChildInline(admin.TabularInline):
    model = m.Equipment
    fk_name = "parent"
    extra = 0
    fields = ["tag_number", "name", "equipment_class", "level", "criticality"]
    show_change_link = True


class PlanInline(admin.TabularInline):
    model = m.PreventivePlan
    extra = 0
    fields = ["name", "trigger", "interval_days", "interval_hours", "start_date", "active"]


class PartInline(admin.TabularInline):
    model = m.WorkOrderPart
    extra = 0
    fields = ["item", "location", "quantity", "issued_quantity", "issued_cost"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # parts are reserved through the API/services so stock stays consistent


@admin.register(m.Equipment)
class EquipmentAdmin(ScopedAdmin):
    list_display = ["tag_number", "name", "site", "well", "equipment_class", "level", "criticality", "run_hours"]
    search_fields = ["tag_number", "name", "manufacturer", "serial_number"]
    list_filter = ["equipment_class", "level", "criticality", "site__field"]
    inlines = [ChildInline, PlanInline]


@admin.register(m.WorkOrder)
class WorkOrderAdmin(ScopedAdmin):
    list_display = ["number", "title", "equipment", "kind", "priority", "status", "planned_start", "actual_end"]
    search_fields = ["number", "title", "equipment__tag_number"]
    list_filter = ["status", "kind", "priority", "failure_mode", "site__field"]
    readonly_fields = (*RO, "number", "site", "status", "actual_start", "actual_end", "planned_at", "planned_by",
                       "started_by", "completed_by", "closed_at", "closed_by", "plan", "due_date", "due_run_hours",
                       "alarm_key", "context")
    inlines = [PartInline]


@admin.register(m.WorkOrderPart)
class WorkOrderPartAdmin(ScopedAdmin):
    list_display = ["work_order", "item", "location", "quantity", "issued_quantity", "issued_cost"]
    search_fields = ["work_order__number", "item__sku"]
    readonly_fields = (*RO, "reservation", "issued_quantity", "issued_cost")


@admin.register(m.PreventivePlan)
class PreventivePlanAdmin(ScopedAdmin):
    list_display = ["name", "equipment", "trigger", "interval_days", "interval_hours", "last_done_date", "active"]
    search_fields = ["name", "equipment__tag_number"]
    list_filter = ["trigger", "active"]
    readonly_fields = (*RO, "last_done_date", "last_done_hours")
