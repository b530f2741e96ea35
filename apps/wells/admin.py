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


from apps.wells import services  # noqa: E402
from apps.wells.models import (  # noqa: E402
    Completion,
    CompletionRestriction,
    PvtSample,
    Reservoir,
    SurveyStation,
    Trajectory,
    Well,
    Wellbore,
    WellStatusChange,
)


class WellStatusChangeInline(admin.TabularInline):
    model = WellStatusChange
    extra = 0
    fields = ["created_at", "from_status", "to_status", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class WellboreInline(admin.TabularInline):
    model = Wellbore
    fk_name = "well"
    extra = 0
    fields = ["name", "parent", "status", "kickoff_md", "total_md"]


@admin.register(Well)
class WellAdmin(ScopedAdmin):
    list_display = ["name", "uwi", "site", "well_type", "status", "spud_date", "completion_date"]
    search_fields = ["name", "uwi", "site__code"]
    list_filter = ["well_type", "status", "datum_type", "site__field"]
    inlines = [WellboreInline, WellStatusChangeInline]


@admin.register(WellStatusChange)
class WellStatusChangeAdmin(ScopedAdmin):
    list_display = ["well", "from_status", "to_status", "reason", "created_at"]
    search_fields = ["well__name", "reason"]
    list_filter = ["to_status"]


class CompletionInline(admin.TabularInline):
    model = Completion
    extra = 0
    fields = ["name", "tubing_od_mm", "tubing_id_mm", "installed_on", "active"]


class TrajectoryInline(admin.TabularInline):
    model = Trajectory
    extra = 0
    fields = ["name", "definitive", "survey_company"]


@admin.register(Wellbore)
class WellboreAdmin(ScopedAdmin):
    list_display = ["name", "well", "parent", "status", "kickoff_md", "total_md"]
    search_fields = ["name", "well__name"]
    list_filter = ["status", "well__site__field"]
    inlines = [CompletionInline, TrajectoryInline]


@admin.register(Reservoir)
class ReservoirAdmin(ScopedAdmin):
    list_display = ["name", "field", "formation", "fluid_type", "initial_pressure_kpa"]
    search_fields = ["name", "formation"]
    list_filter = ["fluid_type", "field"]


class RestrictionInline(admin.TabularInline):
    model = CompletionRestriction
    extra = 0
    fields = ["kind", "description", "depth_md", "min_id_mm"]


@admin.register(Completion)
class CompletionAdmin(ScopedAdmin):
    list_display = ["name", "wellbore", "tubing_od_mm", "tubing_id_mm", "active"]
    search_fields = ["name", "wellbore__well__name"]
    list_filter = ["active", "reservoir"]
    inlines = [RestrictionInline]


@admin.register(CompletionRestriction)
class CompletionRestrictionAdmin(ScopedAdmin):
    list_display = ["completion", "kind", "description", "depth_md", "min_id_mm"]
    search_fields = ["description", "completion__wellbore__well__name"]
    list_filter = ["kind"]


@admin.register(PvtSample)
class PvtSampleAdmin(ScopedAdmin):
    list_display = ["well", "sampled_on", "kind", "bubble_point_kpa", "solution_gor_sm3_sm3"]
    search_fields = ["well__name", "laboratory"]
    list_filter = ["kind", "reservoir"]
    date_hierarchy = "sampled_on"


class SurveyStationInline(admin.TabularInline):
    model = SurveyStation
    extra = 0
    fields = ["md", "inclination", "azimuth", "tvd", "ns", "ew", "dls"]
    readonly_fields = ["tvd", "ns", "ew", "dls"]


@admin.register(Trajectory)
class TrajectoryAdmin(ScopedAdmin):
    list_display = ["name", "wellbore", "definitive", "survey_company", "azimuth_reference"]
    search_fields = ["name", "wellbore__well__name"]
    list_filter = ["definitive", "azimuth_reference"]
    inlines = [SurveyStationInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.recompute_trajectory(form.instance)


@admin.register(SurveyStation)
class SurveyStationAdmin(ScopedAdmin):
    list_display = ["trajectory", "md", "inclination", "azimuth", "tvd", "ns", "ew", "dls"]
    search_fields = ["trajectory__wellbore__well__name"]
    list_filter = ["trajectory__definitive"]
    readonly_fields = (*ScopedAdmin.readonly_fields, "tvd", "ns", "ew", "dls")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.recompute_trajectory(obj.trajectory)
