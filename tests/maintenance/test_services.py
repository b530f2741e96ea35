"""Work-order state machine, parts, alarms, preventive generation and reliability."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.inventory.models import Reservation, StockBalance
from apps.maintenance import services
from apps.maintenance.choices import WorkOrderStatus
from apps.maintenance.models import PreventivePlan, WorkOrder
from tests.finance.factories import make_cost_center
from tests.inventory.factories import stocked
from tests.maintenance.factories import make_equipment, make_work_order

pytestmark = pytest.mark.django_db


def test_state_machine_records_who_and_when(world, personas):
    sup = personas["supervisor"]
    wo = make_work_order(world.site_a)
    with pytest.raises(ValidationError):
        services.start_work_order(wo, sup)  # OPEN cannot start
    wo = services.plan_work_order(wo, sup)
    wo = services.start_work_order(wo, sup)
    with pytest.raises(ValidationError) as err:
        services.complete_work_order(wo, sup)  # corrective: failure codes required
    assert set(err.value.message_dict) == {"failure_mode", "failure_cause"}
    wo = services.complete_work_order(wo, sup, failure_mode="ELP", failure_cause="wear")
    wo = services.close_work_order(wo, sup)
    assert wo.status == WorkOrderStatus.CLOSED
    assert wo.planned_by == sup and wo.started_by == sup and wo.completed_by == sup and wo.closed_by == sup
    assert wo.planned_at and wo.actual_start and wo.actual_end and wo.closed_at
    transitions = AuditEvent.objects.filter(object_id=str(wo.pk), action="transition")
    assert transitions.count() == 4


def test_transitions_through_api(world, api_for):
    wo = make_work_order(world.site_a)
    client = api_for("operator")
    base = f"/api/v1/maintenance/work-orders/{wo.pk}"
    assert client.post(f"{base}/plan/", {}, format="json").json()["status"] == "planned"
    assert client.post(f"{base}/start/", {}, format="json").json()["status"] == "in_progress"
    r = client.post(f"{base}/complete/", {}, format="json")
    assert r.status_code == 400 and {d["field"] for d in r.json()["details"]} == {"failure_mode", "failure_cause"}
    r = client.post(f"{base}/complete/", {"failure_mode": "VIB", "failure_cause": "wear"}, format="json")
    assert r.json()["status"] == "completed"
    r = api_for("viewer").post(f"{base}/close/", {}, format="json")
    assert r.status_code == 403


def test_parts_reserved_issued_and_released_on_close(world):
    cc = make_cost_center(world.site_a)
    item, loc = stocked(world.site_a, 5, "40")
    wo = make_work_order(world.site_a, cost_center=cc)
    part = services.add_part(wo, item, loc, 3)
    assert StockBalance.objects.get(item=item, location=loc).reserved == 3
    with pytest.raises(ValidationError):
        services.issue_part(part)  # OPEN: not yet issuable
    services.plan_work_order(wo)
    services.start_work_order(wo)
    part = services.issue_part(part, 2)
    assert part.issued_cost == Decimal("80.00")
    services.complete_work_order(wo, failure_mode="BRD", failure_cause="wear")
    services.close_work_order(wo)
    b = StockBalance.objects.get(item=item, location=loc)
    assert (b.quantity, b.reserved) == (3, 0)
    assert Reservation.objects.get(pk=part.reservation_id).status == "released"
    assert services.work_order_costs(wo)["parts"] == Decimal("80.00")


def test_alarm_creates_one_corrective_order_per_occurrence(world):
    pump = make_equipment(world.site_a)
    raised = timezone.now()
    alarm = SimpleNamespace(id=42, equipment=pump, message="High vibration DE bearing", raised_at=raised,
                            priority="critical", tag="P-101.VIB", value=11.2)
    first = services.create_work_order_from_alarm(alarm)
    again = services.create_work_order_from_alarm(alarm)
    assert first.pk == again.pk and WorkOrder.objects.count() == 1
    assert first.kind == "corrective" and first.priority == "1" and first.equipment == pump
    assert first.context["tag"] == "P-101.VIB" and "High vibration" in first.title
    later = SimpleNamespace(id=42, equipment=pump, message="High vibration", raised_at=raised + dt.timedelta(hours=2))
    assert services.create_work_order_from_alarm(later).pk != first.pk
    assert services.create_work_order_from_alarm(SimpleNamespace(id=1, equipment=None, message="x",
                                                                 raised_at=raised)) is None


def test_calendar_plan_generates_once_per_due_date(world):
    pump = make_equipment(world.site_a)
    plan = PreventivePlan.objects.create(equipment=pump, name="Monthly", trigger="calendar", interval_days=30,
                                         start_date=dt.date(2026, 1, 1), lead_days=5)
    assert services.generate_due_work_orders(today=dt.date(2026, 1, 25)) == []  # due 01-31, 5 days lead
    created = services.generate_due_work_orders(today=dt.date(2026, 1, 26))
    assert len(created) == 1 and created[0].due_date == dt.date(2026, 1, 31)
    out = StringIO()
    call_command("generate_pm_work_orders", "--date", "2026-01-27", stdout=out)
    assert "0 preventive" in out.getvalue()
    assert WorkOrder.objects.filter(plan=plan).count() == 1
    wo = created[0]
    services.plan_work_order(wo)
    services.start_work_order(wo, at=timezone.make_aware(dt.datetime(2026, 2, 1, 8)))
    services.complete_work_order(wo, at=timezone.make_aware(dt.datetime(2026, 2, 1, 12)))
    plan.refresh_from_db()
    assert plan.next_due_date == dt.date(2026, 3, 3)


def test_celery_task_runs_the_generator(world):
    from apps.maintenance.tasks import generate_preventive_work_orders

    pump = make_equipment(world.site_a)
    PreventivePlan.objects.create(equipment=pump, name="Weekly", trigger="calendar", interval_days=7,
                                  start_date=timezone.localdate() - dt.timedelta(days=10))
    assert generate_preventive_work_orders.delay().get() == 1
    assert generate_preventive_work_orders.delay().get() == 0


def test_reliability_mtbf_mttr(world, api_for):
    pump = make_equipment(world.site_a)
    t0 = timezone.make_aware(dt.datetime(2026, 1, 1, 8))

    def failure(start_h, repair_h):
        wo = make_work_order(world.site_a, equipment=pump)
        services.plan_work_order(wo)
        services.start_work_order(wo, at=t0 + dt.timedelta(hours=start_h))
        services.complete_work_order(wo, at=t0 + dt.timedelta(hours=start_h + repair_h), failure_mode="BRD",
                                     failure_cause="wear")
        services.close_work_order(wo)

    failure(0, 4)      # up again at 4
    failure(104, 6)    # 100 h up, up again at 110
    failure(310, 2)    # 200 h up
    rows = services.reliability_by_class()
    assert rows == [{"equipment_class": "pump", "failures": 3, "mttr_hours": 4.0, "mtbf_hours": 150.0}]
    assert api_for("viewer").get("/api/v1/maintenance/work-orders/reliability/").json() == rows
    assert api_for("viewer").get("/maintenance/reliability/").status_code in (200, 302)
