from django.urls import path

from apps.intervention import models as m
from apps.intervention import views
from apps.wells.ui import crud

app_name = "intervention"
urlpatterns = [
    path("toolstrings/builder/", views.ToolstringBuilderView.as_view(), name="toolstring-builder-new"),
    path("toolstrings/<uuid:pk>/builder/", views.ToolstringBuilderView.as_view(), name="toolstring-builder"),
    *crud("toolstrings", m.Toolstring, ["name", "well", "operation_type", "status", "synced"],
          ["name", "well", "operation_type", "job", "wire_size_mm", "whp_kpa", "lubricator_length_m"],
          select_related=["well"], detail_view=views.ToolstringDetailView),
    *crud("jobs", m.InterventionJob, ["well", "job_type", "status", "planned_start", "reel"],
          ["well", "job_type", "objective", "planned_start", "planned_end", "crew", "contractor", "cost_reference",
           "reel", "remarks"], select_related=["well", "reel"]),
    *crud("reels", m.CoiledTubingReel, ["serial_number", "site", "od_mm", "grade", "fatigue_pct", "retired"],
          ["serial_number", "site", "od_mm", "wall_thickness_mm", "grade", "length_m", "running_length_m",
           "fatigue_pct", "retired"], select_related=["site"]),
    *crud("components", m.ToolComponent, ["code", "name", "tool_type", "od_mm", "length_m", "weight_kg"],
          ["code", "name", "tool_type", "od_mm", "fishing_neck_od_mm", "length_m", "weight_kg", "top_connection",
           "top_gender", "bottom_connection", "bottom_gender", "rotating", "active"]),
]
