from django.urls import path

from apps.wells import models as m
from apps.wells import services, views
from apps.wells.ui import crud

app_name = "wells"
urlpatterns = [
    path("fields/", views.FieldListView.as_view(), name="field-list"),
    path("fields/<uuid:pk>/", views.FieldDetailView.as_view(), name="field-detail"),
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/<uuid:pk>/", views.SiteDetailView.as_view(), name="site-detail"),
    *crud("wells", m.Well, ["name", "uwi", "site", "well_type", "status", "spud_date"],
          ["site", "name", "uwi", "well_type", "status", "surface_latitude", "surface_longitude", "datum_type",
           "datum_elevation_m", "ground_elevation_m", "spud_date", "completion_date"],
          select_related=["site"], detail_view=views.WellDetailView),
    *crud("wellbores", m.Wellbore, ["name", "well", "parent", "status", "total_md"],
          ["well", "name", "parent", "status", "kickoff_md", "total_md", "total_tvd"], select_related=["well"]),
    *crud("completions", m.Completion, ["name", "wellbore", "tubing_od_mm", "tubing_id_mm", "active"],
          ["wellbore", "name", "reservoir", "tubing_od_mm", "tubing_id_mm", "tubing_shoe_md", "installed_on",
           "active"], select_related=["wellbore__well"]),
    *crud("restrictions", m.CompletionRestriction, ["description", "completion", "kind", "depth_md", "min_id_mm"],
          ["completion", "kind", "description", "depth_md", "min_id_mm"]),
    *crud("reservoirs", m.Reservoir, ["name", "field", "formation", "fluid_type"],
          ["field", "name", "formation", "fluid_type", "top_tvd_m", "initial_pressure_kpa", "temperature_c"],
          select_related=["field"]),
    *crud("pvt-samples", m.PvtSample, ["sampled_on", "well", "kind", "bubble_point_kpa"],
          ["well", "reservoir", "sampled_on", "kind", "depth_md", "laboratory", "reservoir_pressure_kpa",
           "reservoir_temperature_c", "bubble_point_kpa", "solution_gor_sm3_sm3", "oil_fvf", "oil_api_gravity",
           "oil_viscosity_cp", "gas_specific_gravity", "notes"], select_related=["well"]),
    *crud("trajectories", m.Trajectory, ["name", "wellbore", "definitive", "survey_company"],
          ["wellbore", "name", "definitive", "survey_company", "azimuth_reference", "tie_on_md", "tie_on_tvd",
           "tie_on_ns", "tie_on_ew"], select_related=["wellbore__well"], detail_view=views.TrajectoryDetailView),
    *crud("survey-stations", m.SurveyStation, ["md", "trajectory", "inclination", "azimuth", "tvd", "dls"],
          ["trajectory", "md", "inclination", "azimuth"], select_related=["trajectory__wellbore__well"],
          after_save=lambda station: services.recompute_trajectory(station.trajectory)),
]
