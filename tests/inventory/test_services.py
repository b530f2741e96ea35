"""Stock moves, moving-average cost, reservations, reorder alerts, and no negative stock (also concurrently)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from apps.core.models import Notification
from apps.finance.models import CostEntry
from apps.inventory import services
from apps.inventory.choices import ReservationStatus
from apps.inventory.models import StockBalance, StockMove
from tests.finance.factories import make_cost_center
from tests.inventory.factories import make_item, make_location, stocked

pytestmark = pytest.mark.django_db


def balance(item, location):
    return StockBalance.objects.get(item=item, location=location)


def test_moving_average_and_issue_cost(world):
    cc = make_cost_center(world.site_a)
    item, loc = stocked(world.site_a, 10, "100")
    services.receive(item, loc, 10, "130")  # average (1000 + 1300) / 20 = 115
    assert balance(item, loc).average_cost == Decimal("115.0000")
    move = services.issue(item, loc, 4, cost_center=cc, reference="WO-1")
    assert move.total_cost == Decimal("460.00")
    entry = CostEntry.objects.get(source_type="stock_issue", source_id=str(move.pk))
    assert entry.amount == Decimal("460.00") and entry.cost_center == cc
    services.issue(item, loc, 16, cost_center=cc)
    b = balance(item, loc)
    assert (b.quantity, b.value) == (0, 0)  # the last unit takes exactly the remaining value
    assert services.verify_balances() == []


def test_stock_never_goes_negative(world):
    cc = make_cost_center(world.site_a)
    item, loc = stocked(world.site_a, 2)
    with pytest.raises(ValidationError) as err:
        services.issue(item, loc, 3, cost_center=cc)
    assert "quantity" in err.value.message_dict
    assert balance(item, loc).quantity == 2
    assert not CostEntry.objects.exists()


def test_database_constraint_refuses_negative_balance(world):
    item, loc = stocked(world.site_a, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(item=item, location=loc).update(quantity=-1)


def test_reservation_holds_stock_and_issue_consumes_it(world):
    cc = make_cost_center(world.site_a)
    item, loc = stocked(world.site_a, 3)
    reservation = services.reserve(item, loc, 2, "WO-7")
    assert balance(item, loc).available == 1
    with pytest.raises(ValidationError):
        services.issue(item, loc, 2, cost_center=cc)  # only 1 unreserved
    with pytest.raises(ValidationError):
        services.reserve(item, loc, 2)
    services.issue(item, loc, 2, cost_center=cc, reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONSUMED
    b = balance(item, loc)
    assert (b.quantity, b.reserved) == (1, 0)
    other = services.reserve(item, loc, 1)
    services.release(other)
    assert balance(item, loc).reserved == 0


def test_transfer_adjustment_and_return(world):
    cc = make_cost_center(world.site_a)
    item, src = stocked(world.site_a, 10, "50")
    dst = make_location(world.site_a, "RIG-1")
    services.transfer(item, src, dst, 4)
    assert balance(item, dst).value == Decimal("200.00") and balance(item, src).quantity == 6
    with pytest.raises(ValidationError):
        services.adjust(item, src, -1, "")
    services.adjust(item, src, -1, "Count 2026-01: broken")
    services.adjust(item, src, 2, "Found in yard", unit_cost="50")
    assert balance(item, src).quantity == 7
    services.issue(item, dst, 4, cost_center=cc)
    ret = services.return_stock(item, dst, 1, cost_center=cc, reference="unused")
    assert CostEntry.objects.get(source_type="stock_return", source_id=str(ret.pk)).amount == Decimal("-50.00")
    assert balance(item, dst).quantity == 1
    assert services.verify_balances() == []


def test_serialised_items_move_one_by_one_with_serial(world):
    item = make_item(serialised=True)
    loc = make_location(world.site_a)
    with pytest.raises(ValidationError):
        services.receive(item, loc, 2, 10)
    with pytest.raises(ValidationError):
        services.receive(item, loc, 1, 10)
    services.receive(item, loc, 1, 10, serial_number="SN-1")


def test_reorder_alert_once_when_crossing(world, personas):
    cc = make_cost_center(world.site_a)
    item, loc = stocked(world.site_a, 5, reorder_point=Decimal("3"), reorder_quantity=Decimal("10"))
    services.issue(item, loc, 2, cost_center=cc)  # 3 available: not below
    assert not Notification.objects.filter(subject__contains=item.sku).exists()
    services.issue(item, loc, 1, cost_center=cc)  # 2 < 3: alert
    services.issue(item, loc, 1, cost_center=cc)  # still below: no new alert
    notes = Notification.objects.filter(subject__contains=item.sku, recipient=personas["supervisor"])
    assert notes.count() == 1


def test_issue_through_api_books_cost(world, api_for):
    cc = make_cost_center(world.site_a)
    item, loc = stocked(world.site_a, 5, "20")
    r = api_for("operator").post("/api/v1/inventory/moves/", {
        "move_type": "issue", "item": str(item.pk), "from_location": str(loc.pk), "quantity": "2",
        "cost_center": str(cc.pk), "target": "work_order", "reference": "WO-3"}, format="json")
    assert r.status_code == 201, r.json()
    assert Decimal(str(r.json()["total_cost"])) == Decimal("40")
    r = api_for("operator").post("/api/v1/inventory/moves/", {
        "move_type": "issue", "item": str(item.pk), "from_location": str(loc.pk), "quantity": "9",
        "cost_center": str(cc.pk)}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "quantity"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issues_of_the_last_unit(world):
    """Two threads, two PostgreSQL connections, one unit: exactly one issue succeeds, stock ends at zero."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    cc = make_cost_center(world.site_a)
    item, loc = stocked(world.site_a, 1, "75")
    barrier = threading.Barrier(2)
    results = []

    def worker():
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            services.issue(item, loc, 1, cost_center=cc)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["ok", "refused"]
    b = balance(item, loc)
    assert (b.quantity, b.value) == (0, 0)
    assert StockMove.objects.filter(move_type="issue").count() == 1
    assert CostEntry.objects.filter(source_type="stock_issue").count() == 1
