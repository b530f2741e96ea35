"""Balances are a projection of the moves and reservations: verify_balances checks all three figures, rebuild_balances
writes them (what the hub does for the moves and reservations it receives, balances themselves do not sync)."""

from decimal import Decimal

import pytest

from apps.inventory import services
from apps.inventory.models import Reservation, StockBalance, StockMove
from tests.finance.factories import make_cost_center
from tests.inventory.factories import make_location, stocked

pytestmark = pytest.mark.django_db


def _figures(item):
    return sorted(StockBalance.objects.filter(item=item).values_list("location_id", "quantity", "reserved", "value"))


def _history(site):
    """Receipts at two prices, a reservation partly issued, a transfer, a count adjustment, a second reservation."""
    cc = make_cost_center(site)
    item, a = stocked(site, 20, "18.50")
    b = make_location(site, code="B-01")
    services.receive(item, a, 10, "21.00")
    reservation = services.reserve(item, a, 6, "WO-1")
    services.issue(item, a, 4, cost_center=cc, reservation=reservation)
    services.transfer(item, a, b, 7)
    services.adjust(item, b, -1, "count")
    services.reserve(item, b, 2, "WO-2")
    return item, a, b


def test_verify_checks_on_hand_reserved_and_value(world):
    item, a, b = _history(world.site_a)
    assert services.verify_balances() == []
    StockBalance.objects.filter(item=item, location=a).update(reserved=1, value=Decimal("1.00"))
    problems = services.verify_balances()
    assert len(problems) == 2
    assert "1.000 reserved, active reservations say 2.000" in problems[0]
    assert "valued 1.00, moves say" in problems[1]


def test_rebuild_writes_the_balances_the_moves_say(world):
    item, a, b = _history(world.site_a)
    good = _figures(item)
    StockBalance.objects.filter(item=item, location=a).update(quantity=30, reserved=0, value=Decimal("0.00"))
    StockBalance.objects.filter(item=item, location=b).delete()
    assert services.rebuild_balances({(item.pk, a.pk), (item.pk, b.pk)}) == []
    assert _figures(item) == good
    assert services.rebuild_balances() == [] and _figures(item) == good  # all of them: nothing more to change


def test_rebuild_leaves_an_impossible_balance_and_says_so(world):
    item, a, b = _history(world.site_a)
    good = _figures(item)
    StockMove.objects.filter(item=item, move_type="receipt").delete()  # as if the receipts had not arrived yet
    problems = services.rebuild_balances({(item.pk, a.pk)})
    assert len(problems) == 1 and "not written" in problems[0]
    assert _figures(item) == good


def test_the_sync_hooks_rebuild_the_balances_of_what_was_applied_after_commit(world,
                                                                               django_capture_on_commit_callbacks):
    """At the hub the applier calls the hooks of StockMove and Reservation for the records it just upserted."""
    item, a, b = _history(world.site_a)
    good = _figures(item)
    StockBalance.objects.filter(item=item).delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        StockMove.sync_apply_extras({m.pk: {} for m in StockMove.objects.filter(item=item, to_location=b)})
        Reservation.sync_apply_extras({r.pk: {} for r in Reservation.objects.filter(item=item)})
    assert not StockBalance.objects.filter(item=item).exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    assert _figures(item) == good  # the transfer names both locations; the reservations both too


def test_the_command_rebuilds_every_balance_and_fails_on_an_impossible_one(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    item, a, b = _history(world.site_a)
    good = _figures(item)
    StockBalance.objects.filter(item=item).update(reserved=0)
    out = StringIO()
    call_command("rebuild_stock_balances", stdout=out)
    assert "2 difference(s) found, 0 balance(s) left" in out.getvalue() and _figures(item) == good
    StockMove.objects.filter(item=item, move_type="receipt").delete()
    with pytest.raises(CommandError, match="could not be rebuilt"):
        call_command("rebuild_stock_balances", stdout=StringIO(), stderr=StringIO())
