"""Certified assignments, POB, expiry notices, timesheet approval to labour cost, pay period."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.core.models import Notification
from apps.drilling.models import Rig
from apps.finance.models import CostEntry
from apps.hr import services
from apps.hr.models import CrewAssignment, RigCertificationRequirement, RotationSchedule, Timesheet
from tests.finance.factories import make_cost_center
from tests.hr.factories import cert_type, certify, make_crew, make_employee

pytestmark = pytest.mark.django_db
D = dt.date


def test_missing_or_expired_certificate_refuses_assignment(world):
    emp = make_employee(world.site_a, first_name="Ken", last_name="Ito")
    crew = make_crew(world.site_a, requires=("H2S", "FA"))
    certify(emp, "H2S", issued=D(2024, 1, 1), expires=D(2026, 1, 31))
    with pytest.raises(ValidationError) as err:
        services.assign_to_crew(emp, crew, D(2026, 2, 1))
    msg = err.value.message_dict["employee"][0]
    assert "Ken Ito cannot join crew" in msg and "H2S certificate expired on 2026-01-31" in msg
    assert "no FA" in msg
    certify(emp, "H2S", issued=D(2026, 1, 15), expires=D(2026, 3, 1))
    certify(emp, "FA", issued=D(2026, 1, 15))
    with pytest.raises(ValidationError) as err:
        services.assign_to_crew(emp, crew, D(2026, 2, 1), D(2026, 4, 1))  # H2S ends before the assignment
    assert "expires on 2026-03-01" in err.value.message_dict["employee"][0]
    services.assign_to_crew(emp, crew, D(2026, 2, 1), D(2026, 2, 28))
    assert CrewAssignment.objects.count() == 1


def test_rig_requirements_apply_to_crew_and_crew_moves(world):
    rig = Rig.objects.create(name="Rig 7", site=world.site_a)
    RigCertificationRequirement.objects.create(rig=rig, certification_type=cert_type("IWCF"))
    emp = make_employee(world.site_a)
    crew = make_crew(world.site_a)
    services.assign_to_crew(emp, crew, D(2026, 2, 1))
    with pytest.raises(ValidationError) as err:
        services.assign_crew_to_rig(crew, rig, on=D(2026, 2, 2))
    assert "no IWCF" in err.value.message_dict["rig"][0]
    certify(emp, "IWCF", issued=D(2026, 1, 1))
    services.assign_crew_to_rig(crew, rig, on=D(2026, 2, 2))
    other = make_employee(world.site_a)
    with pytest.raises(ValidationError):
        services.assign_to_crew(other, crew, D(2026, 2, 3))


def test_assignment_refused_through_api_with_clear_message(world, api_for):
    emp = make_employee(world.site_a, first_name="Li", last_name="Wu")
    crew = make_crew(world.site_a, requires=("H2S",))
    r = api_for("supervisor").post("/api/v1/hr/crew-assignments/", {
        "crew": str(crew.pk), "employee": str(emp.pk), "start_date": "2026-02-01"}, format="json")
    assert r.status_code == 400
    detail = r.json()["details"][0]
    assert detail["field"] == "employee" and "Li Wu" in detail["error"] and "H2S" in detail["error"]


def test_pob_follows_assignments_and_rotation(world, api_for):
    rot = RotationSchedule.objects.create(name="14/14", days_on=14, days_off=14)
    on = make_employee(world.site_a, rotation=rot, rotation_start=D(2026, 2, 1))
    off = make_employee(world.site_a, rotation=rot, rotation_start=D(2026, 1, 18))  # off from 02-01 to 02-14
    crew = make_crew(world.site_a)
    rig = Rig.objects.create(name="Rig B", site=world.site_b)
    elsewhere = make_crew(world.site_a, rig=rig)  # crew of site A working on a rig at site B
    away = make_employee(world.site_a)
    for e in (on, off):
        services.assign_to_crew(e, crew, D(2026, 1, 1))
    services.assign_to_crew(away, elsewhere, D(2026, 1, 1))
    assert services.personnel_on_board(world.site_a, D(2026, 2, 5)) == [on]
    assert services.personnel_on_board(world.site_b, D(2026, 2, 5)) == [away]
    assert set(services.personnel_on_board(world.site_a, D(2026, 2, 16))) == {off}
    r = api_for("viewer").get("/api/v1/hr/crew-assignments/pob/", {"site": "SA1", "date": "2026-02-05"})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert api_for("viewer").get("/api/v1/hr/crew-assignments/pob/", {"site": "SB1", "date": "2026-02-05"}
                                 ).status_code == 404


def test_expiring_certificates_notified_once_30_days_ahead(world, personas):
    emp = make_employee(world.site_a, user=personas["operator"])
    soon = certify(emp, "H2S", issued=D(2024, 3, 1), expires=D(2026, 3, 1))
    certify(emp, "FA", issued=D(2025, 1, 1), expires=D(2026, 6, 1))
    assert services.notify_expiring_certificates(D(2026, 1, 29)) == 0  # 31 days ahead
    assert services.notify_expiring_certificates(D(2026, 1, 30)) == 1
    out = StringIO()
    call_command("notify_expiring_certificates", "--date", "2026-02-01", stdout=out)
    assert "0 certificate" in out.getvalue()
    soon.refresh_from_db()
    assert soon.notified_at is not None
    assert Notification.objects.filter(recipient=personas["operator"], subject__contains="H2S").count() == 1
    assert Notification.objects.filter(recipient=personas["supervisor"], subject__contains="H2S").count() == 1


def test_timesheet_approval_books_labour_and_refuses_self_approval(world, personas, settings):
    settings.HR_OVERTIME_MULTIPLIER = 1.5
    cc = make_cost_center(world.site_a)
    emp = make_employee(world.site_a, hourly_rate=Decimal("40"), user=personas["supervisor"])
    ts = Timesheet.objects.create(employee=emp, date=D(2026, 2, 2), hours=10, overtime_hours=2,
                                  job_reference="JOB-1", cost_center=cc)
    with pytest.raises(ValidationError):
        services.approve_timesheet(ts, personas["admin"])  # still a draft
    services.submit_timesheet(ts)
    with pytest.raises(ValidationError):
        services.approve_timesheet(ts, personas["supervisor"])  # own timesheet
    ts = services.approve_timesheet(ts, personas["admin"])
    assert ts.cost == Decimal("520.00")  # 10 x 40 + 2 x 40 x 1.5
    entry = CostEntry.objects.get(source_type="labour", source_id=str(ts.pk))
    assert entry.amount == Decimal("520.00") and entry.cost_center == cc


def test_timesheet_api_approve_needs_supervisor_and_locks_sheet(world, api_for):
    cc = make_cost_center(world.site_a)
    ts = Timesheet.objects.create(employee=make_employee(world.site_a), date=D(2026, 2, 2), hours=8,
                                  job_reference="JOB-1", cost_center=cc)
    base = f"/api/v1/hr/timesheets/{ts.pk}"
    assert api_for("operator").post(f"{base}/submit/").json()["status"] == "submitted"
    assert api_for("operator").post(f"{base}/approve/").status_code == 403
    r = api_for("supervisor").post(f"{base}/approve/")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert api_for("operator").patch(f"{base}/", {"hours": "12"}, format="json").status_code == 409


def test_pay_period(world, personas, settings):
    settings.HR_OVERTIME_MULTIPLIER = 1.5
    settings.HR_ROTATION_DAILY_ALLOWANCE = 50
    cc = make_cost_center(world.site_a)
    rot = RotationSchedule.objects.create(name="2/2", days_on=2, days_off=2)
    emp = make_employee(world.site_a, hourly_rate=Decimal("30"), rotation=rot, rotation_start=D(2026, 3, 1))
    for day, hours, ot in ((1, 12, 0), (2, 12, 3), (3, 8, 0)):  # 03-03 is an off day (call-out)
        ts = Timesheet.objects.create(employee=emp, date=D(2026, 3, day), hours=hours, overtime_hours=ot,
                                      job_reference="JOB", cost_center=cc)
        services.submit_timesheet(ts)
        services.approve_timesheet(ts, personas["admin"])
    Timesheet.objects.create(employee=emp, date=D(2026, 3, 4), hours=12, job_reference="JOB")  # draft: ignored
    pay = services.pay_period(emp, D(2026, 3, 1), D(2026, 3, 15))
    assert pay["regular_hours"] == 32 and pay["overtime_hours"] == 3
    assert pay["regular_pay"] == Decimal("960.00") and pay["overtime_pay"] == Decimal("135.00")
    assert pay["rotation_days"] == 2 and pay["rotation_allowance"] == 100
    assert pay["gross"] == Decimal("1195.00")


def test_require_certified_for_a_job(world):
    emp = make_employee(world.site_a, first_name="Ada", last_name="Obi")
    certify(emp, "H2S", issued=D(2026, 1, 1))
    services.require_certified(emp, ["H2S"], D(2026, 2, 1), what="to job CT-7")
    cert_type("WELLSHARP")
    with pytest.raises(ValidationError) as err:
        services.require_certified(emp, ["H2S", "WELLSHARP"], D(2026, 2, 1), what="to job CT-7")
    assert err.value.message_dict["employee"] == ["Ada Obi cannot be assigned to job CT-7: no WELLSHARP (WELLSHARP) "
                                                  "certificate."]
