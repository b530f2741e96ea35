from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.drilling.models import (
    BhaComponent,
    BhaRun,
    BitRecord,
    DrillingReport,
    IadcActivity,
    MudRecord,
    MudUsage,
    Rig,
    TimeLogRow,
)


@admin.register(Rig)
class RigAdmin(ScopedAdmin):
    list_display = ["name", "contractor", "rig_type", "site"]
    search_fields = ["name", "contractor"]
    list_filter = ["rig_type", "site__field"]


@admin.register(IadcActivity)
class IadcActivityAdmin(ScopedAdmin):
    list_display = ["code", "subcode", "description", "productive"]
    search_fields = ["code", "description"]
    list_filter = ["productive"]


class TimeLogInline(admin.TabularInline):
    model = TimeLogRow
    extra = 0
    fields = ["start_time", "end_time", "activity", "md_from", "md_to", "description", "npt", "npt_category",
              "responsible_party", "third_party_name"]


class MudRecordInline(admin.TabularInline):
    model = MudRecord
    extra = 0
    fields = ["checked_at", "depth_md", "mud_type", "density_kg_m3", "funnel_viscosity_s", "plastic_viscosity_cp",
              "yield_point_pa"]


class MudUsageInline(admin.TabularInline):
    model = MudUsage
    extra = 0
    fields = ["product", "item_code", "quantity", "unit", "unit_cost", "stock_issued"]
    readonly_fields = ["stock_issued"]


@admin.register(DrillingReport)
class DrillingReportAdmin(ScopedAdmin):
    list_display = ["wellbore", "report_date", "rig", "status", "depth_md", "daily_cost", "personnel_on_board"]
    search_fields = ["wellbore__well__name", "remarks"]
    list_filter = ["status", "rig", "wellbore__well__site__field"]
    date_hierarchy = "report_date"
    readonly_fields = (*ScopedAdmin.readonly_fields, "status", "returned_reason", "submitted_at", "approved_at",
                       "approved_by")
    inlines = [TimeLogInline, MudRecordInline, MudUsageInline]


@admin.register(TimeLogRow)
class TimeLogRowAdmin(ScopedAdmin):
    list_display = ["report", "start_time", "end_time", "activity", "npt", "npt_category", "responsible_party"]
    search_fields = ["description", "third_party_name"]
    list_filter = ["npt", "npt_category", "responsible_party"]


@admin.register(BitRecord)
class BitRecordAdmin(ScopedAdmin):
    list_display = ["bit_number", "wellbore", "size_mm", "iadc_code", "serial_number", "depth_in", "depth_out",
                    "hours", "dull_grade"]
    search_fields = ["serial_number", "bit_number", "manufacturer"]
    list_filter = ["iadc_code", "manufacturer"]


class BhaComponentInline(admin.TabularInline):
    model = BhaComponent
    extra = 0
    fields = ["position", "component_type", "description", "serial_number", "od_mm", "id_mm", "length_m",
              "weight_kg", "top_connection", "bottom_connection"]
    ordering = ["position"]


@admin.register(BhaRun)
class BhaRunAdmin(ScopedAdmin):
    list_display = ["run_number", "wellbore", "bit", "depth_in", "depth_out", "hours"]
    search_fields = ["wellbore__well__name", "purpose"]
    list_filter = ["wellbore__well__site__field"]
    inlines = [BhaComponentInline]


@admin.register(BhaComponent)
class BhaComponentAdmin(ScopedAdmin):
    list_display = ["bha", "position", "component_type", "serial_number", "od_mm", "length_m"]
    search_fields = ["serial_number", "description"]
    list_filter = ["component_type"]


@admin.register(MudRecord)
class MudRecordAdmin(ScopedAdmin):
    list_display = ["report", "checked_at", "mud_type", "density_kg_m3", "plastic_viscosity_cp", "yield_point_pa"]
    search_fields = ["report__wellbore__well__name"]
    list_filter = ["mud_type"]


@admin.register(MudUsage)
class MudUsageAdmin(ScopedAdmin):
    list_display = ["report", "product", "item_code", "quantity", "unit", "stock_issued"]
    search_fields = ["product", "item_code"]
    list_filter = ["stock_issued", "unit"]
