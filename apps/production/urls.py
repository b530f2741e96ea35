from django.urls import path

from apps.production import models as m
from apps.production import views
from apps.sync.offline import offline_create_view
from apps.wells.ui import crud

app_name = "production"
urlpatterns = [
    path("allocations/new/", views.run_allocation, name="allocationrun-create"),
    # the "new" page works offline (static/js/offline/)
    *offline_create_view(crud(
        "daily", m.DailyWellProduction, ["prod_date", "well", "hours_on", "oil_m3", "gas_sm3", "water_m3"],
        ["well", "prod_date", "hours_on", "downtime_reason", "choke_64ths", "tubing_pressure_kpa",
         "casing_pressure_kpa", "oil_m3", "gas_sm3", "water_m3", "std_temperature_c", "std_pressure_kpa",
         "remarks"], select_related=["well"], detail_view=views.DailyDetailView), "production/daily_form.html"),
    *crud("well-tests", m.WellTest, ["test_date", "well", "oil_rate_m3d", "water_rate_m3d", "status"],
          ["well", "test_date", "duration_hours", "choke_64ths", "oil_rate_m3d", "gas_rate_sm3d", "water_rate_m3d",
           "tubing_pressure_kpa", "casing_pressure_kpa", "separator_pressure_kpa"], select_related=["well"],
          detail_view=views.WellTestDetailView),
    *crud("meters", m.Meter, ["code", "name", "site", "kind", "phase", "meter_factor"],
          ["code", "name", "site", "kind", "phase", "meter_factor", "wells"]),
    *crud("meter-readings", m.MeterReading, ["reading_date", "meter", "gross_volume"],
          ["meter", "reading_date", "gross_volume", "std_temperature_c", "std_pressure_kpa"]),
    *crud("allocations", m.AllocationRun, ["period_start", "meter", "period_end", "measured_volume", "complete"],
          [], select_related=["meter"], detail_view=views.AllocationRunDetailView)[::2],  # list and detail only
]
