from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.production.models import (
    AllocationLine,
    AllocationRun,
    DailyWellProduction,
    Meter,
    MeterReading,
    UnitPreference,
    WellTest,
)


class MeterReadingInline(admin.TabularInline):
    model = MeterReading
    extra = 0
    fields = ["reading_date", "gross_volume", "std_temperature_c", "std_pressure_kpa"]


@admin.register(Meter)
class MeterAdmin(ScopedAdmin):
    list_display = ["code", "name", "site", "kind", "phase", "meter_factor"]
    search_fields = ["code", "name"]
    list_filter = ["kind", "phase", "site__field"]
    filter_horizontal = ["wells"]
    inlines = [MeterReadingInline]


@admin.register(MeterReading)
class MeterReadingAdmin(ScopedAdmin):
    list_display = ["meter", "reading_date", "gross_volume"]
    search_fields = ["meter__code"]
    list_filter = ["meter"]
    date_hierarchy = "reading_date"


@admin.register(DailyWellProduction)
class DailyWellProductionAdmin(ScopedAdmin):
    list_display = ["well", "prod_date", "hours_on", "downtime_reason", "oil_m3", "gas_sm3", "water_m3",
                    "allocated_oil_m3"]
    search_fields = ["well__name"]
    list_filter = ["downtime_reason", "well__site__field"]
    date_hierarchy = "prod_date"


@admin.register(WellTest)
class WellTestAdmin(ScopedAdmin):
    list_display = ["well", "test_date", "duration_hours", "oil_rate_m3d", "gas_rate_sm3d", "water_rate_m3d",
                    "status"]
    search_fields = ["well__name"]
    list_filter = ["status", "well__site__field"]
    date_hierarchy = "test_date"
    readonly_fields = (*ScopedAdmin.readonly_fields, "status", "review_note")


class AllocationLineInline(admin.TabularInline):
    model = AllocationLine
    extra = 0
    fields = ["well", "well_test", "test_rate", "hours_on", "theoretical_volume", "allocated_volume", "status",
              "note"]
    readonly_fields = fields
    can_delete = False


@admin.register(AllocationRun)
class AllocationRunAdmin(ScopedAdmin):
    list_display = ["meter", "period_start", "period_end", "measured_volume", "allocation_factor", "complete"]
    search_fields = ["meter__code"]
    list_filter = ["complete", "meter"]
    inlines = [AllocationLineInline]


@admin.register(UnitPreference)
class UnitPreferenceAdmin(ScopedAdmin):
    list_display = ["user", "system"]
    search_fields = ["user__username"]
    list_filter = ["system"]
