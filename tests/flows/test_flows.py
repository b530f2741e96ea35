"""The five end-to-end flows of the ERP business issue, driven through the API where a user would act."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.core.models import Notification
from apps.drilling.models import Rig
from apps.finance.models import CostEntry, JournalEntry
from apps.hr.models import CrewAssignment, Timesheet
from apps.inventory.models import StockBalance
from apps.maintenance.models import PreventivePlan, WorkOrder
from tests.finance.factories import make_afe
from tests.hr.factories import certify, make_crew, make_employee
from tests.inventory.factories import make_item, make_location
from tests.maintenance.factories import make_equipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def afe(world, personas):
    """An approved workover AFE at site A owned by the supervisor, with a PARTS and a LABOUR line."""
    return make_afe(world.site_a, approve_as=personas["admin"], estimate=Decimal("10000"),
                    categories=("LABOUR", "PARTS"), owner=personas["supervisor"], afe_type="workover")


def test_flow1_issue_two_spare_parts_to_a_work_order(world, api_for, afe):
    item = make_item(description="Mechanical seal 2in")
    loc = make_location(world.site_a)
    client = api_for("operator")
    for qty, cost in (("3", "100"), ("1", "140")):  # moving average (300 + 140) / 4 = 110
        r = client.post("/api/v1/inventory/moves/", {"move_type": "receipt", "item": str(item.pk),
                                                     "to_location": str(loc.pk), "quantity": qty,
                                                     "unit_cost": cost}, format="json")
        assert r.status_code == 201, r.json()
    parts_line = afe.lines.get(category="PARTS")
    pump = make_equipment(world.site_a)
    r = client.post("/api/v1/maintenance/work-orders/", {"equipment": str(pump.pk), "title": "Seal leak",
                                                         "kind": "corrective", "afe_line": str(parts_line.pk)},
                    format="json")
    wo = WorkOrder.objects.get(pk=r.json()["id"])
    r = client.post("/api/v1/maintenance/work-order-parts/", {"work_order": str(wo.pk), "item": str(item.pk),
                                                              "location": str(loc.pk), "quantity": "2"},
                    format="json")
    assert r.status_code == 201, r.json()
    part_id = r.json()["id"]
    client.post(f"/api/v1/maintenance/work-orders/{wo.pk}/plan/")
    client.post(f"/api/v1/maintenance/work-orders/{wo.pk}/start/")
    r = client.post(f"/api/v1/maintenance/work-order-parts/{part_id}/issue/", {}, format="json")
    assert r.status_code == 200, r.json()

    balance = StockBalance.objects.get(item=item, location=loc)
    assert (balance.quantity, balance.reserved, balance.value) == (2, 0, Decimal("220.00"))
    entry = CostEntry.objects.get(source_type="stock_issue")
    assert entry.amount == Decimal("220.00") and entry.afe_line == parts_line
    journal = entry.journal_entry
    assert journal.status == "posted"
    debit, credit = journal.totals()
    assert debit == credit == Decimal("220.00")
    assert {(x.account.code, x.debit > 0) for x in journal.lines.all()} == {("1520", True), ("1300", False)}
    report = api_for("viewer").get(f"/api/v1/finance/afes/{afe.pk}/report/").json()
    parts_row = next(row for row in report["lines"] if row["category"] == "PARTS")
    assert Decimal(str(parts_row["actual"])) == Decimal("220")


def test_flow2_timesheet_on_a_work_order_becomes_labour_on_the_same_afe(world, personas, api_for, afe):
    labour_line = afe.lines.get(category="LABOUR")
    wo = WorkOrder.objects.create(equipment=make_equipment(world.site_a), title="Replace bearing",
                                  afe_line=labour_line)
    emp = make_employee(world.site_a, hourly_rate=Decimal("45"), user=personas["operator"])
    r = api_for("operator").post("/api/v1/hr/timesheets/", {"employee": str(emp.pk), "date": "2026-02-10",
                                                             "hours": "8", "overtime_hours": "1",
                                                             "work_order": str(wo.pk)}, format="json")
    assert r.status_code == 201, r.json()
    ts_id = r.json()["id"]
    api_for("operator").post(f"/api/v1/hr/timesheets/{ts_id}/submit/")
    r = api_for("supervisor").post(f"/api/v1/hr/timesheets/{ts_id}/approve/")
    assert r.status_code == 200, r.json()
    entry = CostEntry.objects.get(source_type="labour", source_id=ts_id)
    assert entry.afe_line == labour_line and entry.afe_line.afe == wo.afe_line.afe
    assert entry.amount == Decimal("427.50")  # 8 x 45 + 1 x 45 x 1.5
    debit, credit = entry.journal_entry.totals()
    assert debit == credit == Decimal("427.50")
    assert Timesheet.objects.get(pk=ts_id).approved_by == personas["supervisor"]
    costs = api_for("viewer").get(f"/api/v1/maintenance/work-orders/{wo.pk}/costs/").json()
    assert Decimal(str(costs["labour"])) == Decimal("427.50")


def test_flow3_unapproved_afe_refused_and_warning_share_notifies_owner(world, personas, api_for, afe):
    draft = make_afe(world.site_a, owner=personas["supervisor"])
    r = api_for("supervisor").post("/api/v1/finance/cost-entries/", {
        "amount": "500", "afe_line": str(draft.lines.get().pk), "description": "rental"}, format="json")
    assert r.status_code == 400
    assert r.json()["details"][0]["field"] == "afe_line" and "approved" in r.json()["details"][0]["error"]
    assert not CostEntry.objects.exists() and not JournalEntry.objects.exists()

    line = afe.lines.get(category="PARTS")  # approved amount 20 000, warning at 90 % = 18 000
    r = api_for("supervisor").post("/api/v1/finance/cost-entries/", {"amount": "17000", "afe_line": str(line.pk)},
                                   format="json")
    assert r.status_code == 201
    assert not Notification.objects.filter(recipient=personas["supervisor"], subject__contains=afe.number).exists()
    r = api_for("supervisor").post("/api/v1/finance/cost-entries/", {"amount": "1500", "afe_line": str(line.pk)},
                                   format="json")
    assert r.status_code == 201
    note = Notification.objects.get(recipient=personas["supervisor"], subject__contains=afe.number)
    assert "92.5%" in note.subject and note.severity == "warning"
    report = api_for("viewer").get(f"/api/v1/finance/afes/{afe.pk}/report/").json()
    assert report["warning"] is True


def test_flow4_expired_h2s_cannot_join_a_rig_crew_that_requires_it(world, api_for):
    rig = Rig.objects.create(name="Rig 12", site=world.site_a)
    crew = make_crew(world.site_a, requires=("H2S",), rig=rig)
    emp = make_employee(world.site_a, first_name="Sam", last_name="Reyes")
    certify(emp, "H2S", issued=dt.date(2024, 1, 10), expires=dt.date(2026, 1, 10))
    r = api_for("supervisor").post("/api/v1/hr/crew-assignments/", {
        "crew": str(crew.pk), "employee": str(emp.pk), "start_date": "2026-02-01"}, format="json")
    assert r.status_code == 400
    detail = r.json()["details"][0]
    assert detail["field"] == "employee"
    assert detail["error"] == (f"Sam Reyes cannot join crew {crew.name} on rig Rig 12: H2S certificate expired on "
                               "2026-01-10.")
    assert not CrewAssignment.objects.exists()
    certify(emp, "H2S", issued=dt.date(2026, 1, 20))
    r = api_for("supervisor").post("/api/v1/hr/crew-assignments/", {
        "crew": str(crew.pk), "employee": str(emp.pk), "start_date": "2026-02-01"}, format="json")
    assert r.status_code == 201


def test_flow5_run_hours_plan_generates_exactly_one_work_order(world, api_for):
    from apps.maintenance.services import generate_due_work_orders

    pump = make_equipment(world.site_a, equipment_class="esp", run_hours=Decimal("400"))
    plan = PreventivePlan.objects.create(equipment=pump, name="500 h service", trigger="run_hours",
                                         interval_hours=Decimal("500"), start_date=dt.date(2026, 1, 1))
    client = api_for("operator")
    r = client.post(f"/api/v1/maintenance/equipment/{pump.pk}/run-hours/", {"run_hours": "499.5"}, format="json")
    assert r.status_code == 200 and r.json()["created"] == []
    r = client.post(f"/api/v1/maintenance/equipment/{pump.pk}/run-hours/", {"run_hours": "501"}, format="json")
    assert len(r.json()["created"]) == 1
    client.post(f"/api/v1/maintenance/equipment/{pump.pk}/run-hours/", {"run_hours": "520"}, format="json")
    assert generate_due_work_orders() == []  # the scheduled job finds nothing new
    orders = WorkOrder.objects.filter(plan=plan)
    assert orders.count() == 1
    wo = orders.get()
    assert wo.kind == "preventive" and wo.due_run_hours == Decimal("500")
