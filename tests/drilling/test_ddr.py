import datetime as dt
from decimal import Decimal

import pytest

from apps.core.models import AuditEvent
from apps.drilling import services
from apps.drilling.models import BhaComponent, BhaRun, MudUsage, TimeLogRow
from tests.drilling.helpers import FULL_DAY, code, report, rows
from tests.wells import factories as f

pytestmark = pytest.mark.django_db


def url(rep, step=""):
    return f"/api/v1/drilling/reports/{rep.pk}/" + (f"{step}/" if step else "")


def test_submit_refuses_a_broken_time_log_naming_rule_and_rows(world, api_for):
    rep = report(world)
    rows(rep, [("06:00", "12:00"), ("11:00", "18:00"), ("18:00", "05:00")])
    response = api_for("operator").post(url(rep, "submit"))
    assert response.status_code == 400
    details = {(d["field"], d["error"].split("]")[0] + "]") for d in response.json()["details"]}
    assert ("time_log.2", "[overlap]") in details
    assert ("time_log.3", "[last_end]") in details
    rep.refresh_from_db()
    assert rep.status == "draft"


def test_workflow_submit_approve_return(world, api_for):
    rep = report(world)
    rows(rep, FULL_DAY)
    assert api_for("operator").post(url(rep, "submit")).json()["status"] == "submitted"
    # a submitted report and its rows are frozen
    assert api_for("operator").patch(url(rep), {"remarks": "late edit"}, format="json").status_code == 400
    row = rep.time_log.first()
    edit = api_for("operator").patch(f"/api/v1/drilling/time-log/{row.pk}/", {"description": "x"}, format="json")
    assert edit.status_code == 400 and edit.json()["details"][0]["field"] == "report"
    assert api_for("operator").post(url(rep, "approve")).status_code == 403
    approved = api_for("supervisor").post(url(rep, "approve"))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    no_reason = api_for("supervisor").post(url(rep, "return"), {"reason": ""}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["details"][0]["field"] == "reason"
    back = api_for("supervisor").post(url(rep, "return"), {"reason": "Wrong NPT category"}, format="json")
    assert back.status_code == 200 and back.json()["status"] == "draft"
    assert back.json()["returned_reason"] == "Wrong NPT category"
    transitions = AuditEvent.objects.filter(object_id=str(rep.pk), action="transition").count()
    assert transitions == 3
    assert api_for("supervisor").post(url(rep, "approve")).status_code == 409  # a draft cannot be approved


def test_cumulative_cost_and_npt_hours(world, api_for):
    wb = f.wellbore(world)
    report(world, wellbore=wb, day=dt.date(2026, 4, 1), daily_cost=Decimal("1000"))
    rep = report(world, wellbore=wb, day=dt.date(2026, 4, 2), daily_cost=Decimal("2500"))
    rows(rep, FULL_DAY[:3])
    TimeLogRow.objects.create(report=rep, start_time=dt.time(0), end_time=dt.time(6), activity=code("8"),
                              description="Top drive repair", npt=True, npt_category="rig_equipment",
                              responsible_party="contractor")
    body = api_for("viewer").get(url(rep)).json()
    assert body["cumulative_cost"] == 3500 and body["npt_hours"] == 6.0 and body["time_log_problems"] == []


def test_npt_row_needs_category_and_named_third_party(world, api_for):
    rep = report(world)
    base = {"report": str(rep.pk), "start_time": "06:00", "end_time": "07:00", "activity": str(code("19").pk),
            "description": "Fishing", "npt": True}
    r = api_for("operator").post("/api/v1/drilling/time-log/", base, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "npt_category"
    r = api_for("operator").post("/api/v1/drilling/time-log/", {**base, "npt_category": "service",
                                                                 "responsible_party": "third_party"}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "third_party_name"


def test_mud_usage_hook_runs_once_on_approval(world, personas):
    rep = report(world)
    rows(rep, FULL_DAY)
    usage = MudUsage.objects.create(report=rep, product="Barite", item_code="BAR-50", quantity=40, unit="sack")
    calls = []
    hook = lambda u: calls.append(u.pk) or f"ISSUE-{len(calls)}"  # noqa: E731
    services.register_mud_usage_hook(hook)
    try:
        services.submit(rep)
        services.approve(rep, personas["supervisor"])
        services.return_to_draft(rep, personas["supervisor"], "fix")
        services.submit(rep)
        services.approve(rep, personas["supervisor"])
    finally:
        services.MUD_USAGE_HOOKS.remove(hook)
    usage.refresh_from_db()
    assert calls == [usage.pk] and usage.stock_issued and usage.stock_reference == "ISSUE-1"


def test_iadc_code_table_is_shipped():
    assert code("2").description == "Drilling actual"
    assert code("21").description == "Other"
    assert code("6", "B").description == "Trip out of hole"


def test_jar_and_motor_hours_accumulate_across_runs(world, api_for):
    wb = f.wellbore(world)
    for n, hours in ((1, "30.5"), (2, "12")):
        run = BhaRun.objects.create(wellbore=wb, run_number=n, depth_in=1000 * n, hours=Decimal(hours))
        BhaComponent.objects.create(bha=run, position=1, component_type="bit", od_mm=215.9, length_m=0.3)
        BhaComponent.objects.create(bha=run, position=2, component_type="motor", serial_number=f"M-{n}",
                                    od_mm=171.5, length_m=8.2)
        jar = BhaComponent.objects.create(bha=run, position=3, component_type="jar", serial_number="JAR-77",
                                          od_mm=165.1, length_m=9.5)
    body = api_for("viewer").get(f"/api/v1/drilling/bha-runs/{jar.bha_id}/").json()
    by_pos = {c["position"]: c for c in body["components"]}
    assert by_pos[3]["accumulated_hours"] == 42.5  # the same jar ran in both runs
    assert by_pos[2]["accumulated_hours"] == 12.0  # a different motor
    assert by_pos[1]["accumulated_hours"] is None
    r = api_for("operator").post("/api/v1/drilling/bha-components/", {
        "bha": str(jar.bha_id), "position": 1, "component_type": "stabilizer", "od_mm": "212", "length_m": "1.5"},
        format="json")
    assert r.status_code == 400  # position 1 is the bit (listed from the bit up)


def test_scoped_user_cannot_read_other_field_ddrs(world, api_for, personas, client):
    inside, outside = report(world), report(world, in_scope=False)
    ids = {r["id"] for r in api_for("supervisor").get("/api/v1/drilling/reports/").json()["results"]}
    assert str(inside.pk) in ids and str(outside.pk) not in ids
    client.force_login(personas["supervisor"])
    assert client.get(f"/drilling/reports/{outside.pk}/").status_code == 404
    assert client.get(f"/drilling/reports/{inside.pk}/").status_code == 200
    assert client.post(f"/drilling/reports/{outside.pk}/submit/").status_code == 404


def test_ui_submit_shows_the_problems(world, personas, client):
    rep = report(world)
    rows(rep, [("06:00", "12:00")])
    client.force_login(personas["operator"])
    page = client.post(f"/drilling/reports/{rep.pk}/submit/", follow=True).content.decode()
    assert "[last_end]" in page and "[total]" in page


def test_ui_edit_of_a_submitted_report_is_refused_with_a_message(world, personas, client):
    rep = report(world)
    rows(rep, FULL_DAY)
    services.submit(rep)
    client.force_login(personas["operator"])
    response = client.post(f"/drilling/reports/{rep.pk}/edit/", {
        "wellbore": str(rep.wellbore_id), "report_date": "2026-04-01", "day_start": "06:00", "daily_cost": "1",
        "personnel_on_board": "3", "remarks": "late edit"})
    assert response.status_code == 200 and "cannot be edited" in response.content.decode()
    rep.refresh_from_db()
    assert rep.remarks == ""
