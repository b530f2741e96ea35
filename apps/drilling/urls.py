from django.urls import path

from apps.drilling import models as m
from apps.drilling import views
from apps.sync.offline import offline_create_view
from apps.wells.ui import crud

app_name = "drilling"
urlpatterns = [
    *[path(f"reports/<uuid:pk>/{step}/", views.transition, {"step": step}, name=f"drillingreport-{step}")
      for step in ("submit", "approve", "return")],
    *crud("reports", m.DrillingReport, ["report_date", "wellbore", "rig", "status", "depth_md", "daily_cost"],
          ["wellbore", "rig", "report_date", "report_number", "day_start", "depth_md", "depth_tvd", "daily_cost",
           "personnel_on_board", "operations_summary", "forecast", "remarks"], select_related=["wellbore__well", "rig"],
          detail_view=views.DrillingReportDetailView),
    # the "new" page works offline (static/js/offline/)
    *offline_create_view(crud(
        "time-log", m.TimeLogRow, ["start_time", "report", "end_time", "activity", "npt"],
        ["report", "start_time", "end_time", "activity", "md_from", "md_to", "description", "npt", "npt_category",
         "responsible_party", "third_party_name"], select_related=["report", "activity"]),
        "drilling/timelog_form.html"),
    *crud("rigs", m.Rig, ["name", "contractor", "rig_type", "site"], ["name", "contractor", "rig_type", "site"]),
    *crud("bits", m.BitRecord, ["bit_number", "wellbore", "size_mm", "serial_number", "depth_in", "depth_out"],
          ["wellbore", "bit_number", "size_mm", "iadc_code", "manufacturer", "serial_number", "tfa_mm2", "depth_in",
           "depth_out", "hours", "dull_grade"]),
    *crud("bha-runs", m.BhaRun, ["run_number", "wellbore", "bit", "depth_in", "hours"],
          ["wellbore", "run_number", "bit", "depth_in", "depth_out", "hours", "purpose"]),
    *crud("mud-checks", m.MudRecord, ["checked_at", "report", "mud_type", "density_kg_m3"],
          ["report", "checked_at", "depth_md", "mud_type", "density_kg_m3", "funnel_viscosity_s",
           "plastic_viscosity_cp", "yield_point_pa", "gel_10s_pa", "gel_10m_pa", "fluid_loss_ml", "ph",
           "chlorides_mg_l", "solids_pct"]),
    *crud("mud-usage", m.MudUsage, ["product", "report", "quantity", "unit"],
          ["report", "product", "item_code", "quantity", "unit", "unit_cost"]),
    *crud("bha-components", m.BhaComponent, ["position", "bha", "component_type", "serial_number", "od_mm"],
          ["bha", "position", "component_type", "description", "serial_number", "od_mm", "id_mm", "length_m",
           "weight_kg", "top_connection", "bottom_connection"], select_related=["bha"]),
]
