"""Inventory business rules: every stock change is a StockMove made here, inside one transaction that locks the
balance rows it touches (SELECT ... FOR UPDATE, in a fixed order), so two concurrent issues of the last unit cannot
both succeed; the database CHECK constraints on StockBalance are the last line of defence.

Issues and returns book their moving-average cost through ``apps.finance.services.book_cost`` (source
``stock_issue`` / ``stock_return``, idempotent per move) to the AFE line or cost centre they name.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from apps.core.choices import Severity
from apps.inventory.choices import IssueTarget, MoveType, ReservationStatus
from apps.inventory.models import ZERO, Item, Location, Reservation, StockBalance, StockMove

CENT = Decimal("0.01")
log = logging.getLogger(__name__)


def _qty(value) -> Decimal:
    value = Decimal(str(value))
    if value <= 0:
        raise ValidationError({"quantity": "The quantity must be positive."})
    return value


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _lock(item: Item, *locations: Location) -> dict:
    """Lock (creating if needed) the balance rows of ``item`` at ``locations``, in primary-key order."""
    for location in locations:
        try:
            with transaction.atomic():
                StockBalance.objects.get_or_create(item=item, location=location)
        except IntegrityError:  # created concurrently by another transaction: fine, it exists now
            pass
    rows = StockBalance.objects.select_for_update().filter(item=item, location__in=locations).order_by("pk")
    return {row.location_id: row for row in rows}


def _check_serial(item: Item, quantity: Decimal, serial: str):
    if item.serialised:
        if quantity != 1:
            raise ValidationError({"quantity": f"{item.sku} is serialised: move one unit at a time."})
        if not serial:
            raise ValidationError({"serial_number": f"{item.sku} is serialised: give the unit's serial number."})


def site_available(item: Item, site) -> Decimal:
    agg = StockBalance.objects.filter(item=item, location__warehouse__site=site).aggregate(
        q=Sum("quantity"), r=Sum("reserved"))
    return (agg["q"] or ZERO) - (agg["r"] or ZERO)


def _reorder_check(item: Item, site, before: Decimal):
    """Notify the site's supervisors when available stock crosses below the reorder point."""
    if item.reorder_point <= 0:
        return
    after = site_available(item, site)
    if before >= item.reorder_point > after:
        from apps.core.services import notify

        notify(None, f"Reorder {item.sku} at {site.code}: {after} {item.uom} available",
               f"{item.description}: available {after} fell below the reorder point {item.reorder_point}; "
               f"reorder quantity {item.reorder_quantity}.", f"/inventory/items/{item.pk}/", Severity.WARNING,
               role="supervisor", field=site.field.code, site=site.code)


def _current_cost(item: Item, balance: StockBalance) -> Decimal:
    """The location's moving average, or (when it is empty) the item's last known unit cost."""
    if balance.quantity > 0:
        return balance.average_cost
    last = StockMove.objects.filter(item=item, unit_cost__gt=0).order_by("-moved_at").values_list(
        "unit_cost", flat=True).first()
    return last or ZERO


def _make_move(**fields) -> StockMove:
    fields.setdefault("moved_at", timezone.now())
    return StockMove.objects.create(**fields)


def receive(item: Item, location: Location, quantity, unit_cost, *, reference: str = "", serial_number: str = "",
            moved_at=None) -> StockMove:
    """A receipt (from a vendor or a delivery): on hand up, the location's moving average re-computed."""
    quantity = _qty(quantity)
    unit_cost = Decimal(str(unit_cost))
    if unit_cost < 0:
        raise ValidationError({"unit_cost": "The unit cost cannot be negative."})
    _check_serial(item, quantity, serial_number)
    with transaction.atomic():
        balance = _lock(item, location)[location.pk]
        total = _money(quantity * unit_cost)
        StockBalance.objects.filter(pk=balance.pk).update(quantity=F("quantity") + quantity,
                                                          value=F("value") + total)
        return _make_move(site=location.warehouse.site, move_type=MoveType.RECEIPT, item=item, to_location=location,
                          quantity=quantity, unit_cost=unit_cost, total_cost=total, reference=reference,
                          serial_number=serial_number, moved_at=moved_at or timezone.now())


def _take_out(balance: StockBalance, quantity: Decimal, *, from_reserved: Decimal = ZERO) -> Decimal:
    """Remove ``quantity`` from a locked balance at its moving-average value; returns the value taken out."""
    free = balance.quantity - balance.reserved + from_reserved
    if quantity > free:
        raise ValidationError({"quantity": f"Only {max(free, ZERO)} {balance.item.uom} of {balance.item.sku} "
                                           f"available at {balance.location} ({balance.quantity} on hand, "
                                           f"{balance.reserved} reserved)."})
    if quantity == balance.quantity:
        value = balance.value
    else:
        value = _money(balance.value * quantity / balance.quantity)
    StockBalance.objects.filter(pk=balance.pk).update(quantity=F("quantity") - quantity, value=F("value") - value,
                                                      reserved=F("reserved") - from_reserved)
    return value


def issue(item: Item, location: Location, quantity, *, afe_line=None, cost_center=None,
          target: str = IssueTarget.COST_CENTER, well=None, reference: str = "", reservation: Reservation | None = None,
          serial_number: str = "", moved_at=None, description: str = "") -> StockMove:
    """Issue stock to a well, job, work order or cost centre. Its moving-average cost is booked (with a journal
    entry) to ``afe_line`` or ``cost_center`` (exactly one, the AFE approved). Issuing against a ``reservation``
    consumes it; otherwise only unreserved stock can be issued."""
    quantity = _qty(quantity)
    _check_serial(item, quantity, serial_number)
    if target not in IssueTarget.values:
        raise ValidationError({"target": f"Unknown issue target {target!r}."})
    if bool(afe_line) == bool(cost_center):
        raise ValidationError({"afe_line": "Charge the issue to exactly one AFE line or cost centre."})
    site = location.warehouse.site
    with transaction.atomic():
        from_reserved = ZERO
        if reservation is not None:
            reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
            if reservation.status != ReservationStatus.ACTIVE:
                raise ValidationError({"reservation": "The reservation is no longer active."})
            if reservation.item_id != item.pk or reservation.location_id != location.pk:
                raise ValidationError({"reservation": "The reservation is for another item or location."})
            from_reserved = min(quantity, reservation.open_quantity)
        before = site_available(item, site)
        balance = _lock(item, location)[location.pk]
        value = _take_out(balance, quantity, from_reserved=from_reserved)
        if reservation is not None:
            reservation.issued_quantity += from_reserved
            if reservation.issued_quantity >= reservation.quantity:
                reservation.status = ReservationStatus.CONSUMED
            reservation.save()
        move = _make_move(site=site, move_type=MoveType.ISSUE, item=item, from_location=location, quantity=quantity,
                          unit_cost=(value / quantity).quantize(Decimal("0.0001")), total_cost=value,
                          target=target, well=well, afe_line=afe_line, cost_center=cost_center,
                          reference=reference, reservation=reservation, serial_number=serial_number,
                          moved_at=moved_at or timezone.now())
        if value:
            from apps.finance.services import book_cost

            book_cost("stock_issue", move.pk, value, afe_line=afe_line, cost_center=cost_center,
                      date=timezone.localdate(move.moved_at),
                      description=(description or f"{quantity} {item.uom} {item.sku} {reference}").strip())
        _reorder_check(item, site, before)
        return move


def transfer(item: Item, from_location: Location, to_location: Location, quantity, *, reference: str = "",
             serial_number: str = "") -> StockMove:
    """Move stock between locations (e.g. site store -> rig store) at the source's moving-average value."""
    quantity = _qty(quantity)
    _check_serial(item, quantity, serial_number)
    if from_location.pk == to_location.pk:
        raise ValidationError({"to_location": "Transfer to a different location."})
    site = from_location.warehouse.site
    with transaction.atomic():
        before = site_available(item, site)
        rows = _lock(item, from_location, to_location)
        value = _take_out(rows[from_location.pk], quantity)
        StockBalance.objects.filter(pk=rows[to_location.pk].pk).update(quantity=F("quantity") + quantity,
                                                                        value=F("value") + value)
        move = _make_move(site=site, move_type=MoveType.TRANSFER, item=item, from_location=from_location,
                          to_location=to_location, quantity=quantity, total_cost=value,
                          unit_cost=(value / quantity).quantize(Decimal("0.0001")), reference=reference,
                          serial_number=serial_number)
        _reorder_check(item, site, before)
        return move


def adjust(item: Item, location: Location, delta, reason: str, *, unit_cost=None, serial_number: str = "") -> StockMove:
    """A stock-count adjustment (``delta`` signed) with a mandatory reason. A gain is valued at ``unit_cost`` (default:
    the location's moving average)."""
    if not reason.strip():
        raise ValidationError({"reason": "An adjustment needs a reason."})
    delta = Decimal(str(delta))
    if delta == 0:
        raise ValidationError({"quantity": "The adjustment must change the quantity."})
    site = location.warehouse.site
    with transaction.atomic():
        before = site_available(item, site)
        balance = _lock(item, location)[location.pk]
        if delta > 0:
            cost = Decimal(str(unit_cost)) if unit_cost is not None else _current_cost(item, balance)
            value = _money(delta * cost)
            StockBalance.objects.filter(pk=balance.pk).update(quantity=F("quantity") + delta, value=F("value") + value)
            fields = {"to_location": location}
        else:
            value = _take_out(balance, -delta)
            fields = {"from_location": location}
        move = _make_move(site=site, move_type=MoveType.ADJUSTMENT, item=item, quantity=abs(delta),
                          total_cost=value, unit_cost=(value / abs(delta)).quantize(Decimal("0.0001")),
                          reason=reason, serial_number=serial_number, **fields)
        _reorder_check(item, site, before)
        return move


def return_stock(item: Item, location: Location, quantity, *, afe_line=None, cost_center=None, unit_cost=None,
                 target: str = IssueTarget.COST_CENTER, well=None, reference: str = "",
                 serial_number: str = "") -> StockMove:
    """Unused stock returned from a well/job/work order: back on hand, and its cost credited (a negative cost entry)
    to the AFE line or cost centre it was charged to. Valued at ``unit_cost`` (default: current moving average)."""
    quantity = _qty(quantity)
    _check_serial(item, quantity, serial_number)
    if bool(afe_line) == bool(cost_center):
        raise ValidationError({"afe_line": "Credit the return to exactly one AFE line or cost centre."})
    with transaction.atomic():
        balance = _lock(item, location)[location.pk]
        cost = Decimal(str(unit_cost)) if unit_cost is not None else _current_cost(item, balance)
        value = _money(quantity * cost)
        StockBalance.objects.filter(pk=balance.pk).update(quantity=F("quantity") + quantity, value=F("value") + value)
        move = _make_move(site=location.warehouse.site, move_type=MoveType.RETURN, item=item, to_location=location,
                          quantity=quantity, unit_cost=cost, total_cost=value, target=target, well=well,
                          afe_line=afe_line, cost_center=cost_center, reference=reference,
                          serial_number=serial_number)
        if value:
            from apps.finance.services import book_cost

            book_cost("stock_return", move.pk, -value, afe_line=afe_line, cost_center=cost_center,
                      description=f"Return {quantity} {item.uom} {item.sku} {reference}".strip())
        return move


def reserve(item: Item, location: Location, quantity, reference: str = "") -> Reservation:
    """Set stock aside; refused when not enough unreserved stock is on hand."""
    quantity = _qty(quantity)
    site = location.warehouse.site
    with transaction.atomic():
        before = site_available(item, site)
        balance = _lock(item, location)[location.pk]
        if quantity > balance.available:
            raise ValidationError({"quantity": f"Only {balance.available} {item.uom} of {item.sku} can be reserved "
                                               f"at {location}."})
        StockBalance.objects.filter(pk=balance.pk).update(reserved=F("reserved") + quantity)
        reservation = Reservation.objects.create(item=item, location=location, quantity=quantity,
                                                 reference=reference)
        _reorder_check(item, site, before)
        return reservation


def release(reservation: Reservation) -> Reservation:
    """ACTIVE -> RELEASED: the open quantity becomes available again."""
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if reservation.status != ReservationStatus.ACTIVE:
            raise ValidationError({"status": "Only an active reservation can be released."})
        balance = _lock(reservation.item, reservation.location)[reservation.location_id]
        StockBalance.objects.filter(pk=balance.pk).update(reserved=F("reserved") - reservation.open_quantity)
        reservation.status = ReservationStatus.RELEASED
        reservation.save()
        return reservation


Key = tuple  # (item id, location id)


def expected_balances(keys=None) -> dict[Key, tuple[Decimal, Decimal, Decimal]]:
    """(on hand, reserved, value) of each balance as the moves and reservations say: on hand and value are the sums
    of the quantities and costs moved in minus those moved out (every move's ``total_cost`` is exactly the value it
    added or took), reserved the open quantity of the active reservations. ``keys``: only these (item, location)
    pairs (the others may be missing from the answer); None: all."""
    moves, reservations = StockMove.objects.order_by(), Reservation.objects.order_by()
    if keys is not None:
        keys = set(keys)
        items, locations = {k[0] for k in keys}, {k[1] for k in keys}
        moves = moves.filter(item_id__in=items)
        reservations = reservations.filter(item_id__in=items, location_id__in=locations)
    else:
        locations = None
    totals: dict[Key, list] = {}

    def add(key, quantity=ZERO, reserved=ZERO, value=ZERO):
        row = totals.setdefault(key, [ZERO, ZERO, ZERO])
        row[0] += quantity
        row[1] += reserved
        row[2] += value

    for column, sign in (("to_location_id", 1), ("from_location_id", -1)):
        rows = moves.filter(**{f"{column}__isnull": False})
        if locations is not None:
            rows = rows.filter(**{f"{column}__in": locations})
        for item, location, quantity, value in rows.values_list("item_id", column).annotate(
                q=Sum("quantity"), v=Sum("total_cost")).values_list("item_id", column, "q", "v"):
            add((item, location), quantity=sign * quantity, value=sign * value)
    open_rows = reservations.filter(status=ReservationStatus.ACTIVE).values_list("item_id", "location_id").annotate(
        r=Sum(F("quantity") - F("issued_quantity"))).values_list("item_id", "location_id", "r")
    for item, location, reserved in open_rows:
        add((item, location), reserved=reserved)
    if keys is not None:
        return {k: tuple(v) for k, v in totals.items() if k in keys}
    return {k: tuple(v) for k, v in totals.items()}


def verify_balances() -> list[str]:
    """Recompute every balance from the moves and reservations and list each one that disagrees (empty: all
    consistent)."""
    expected = expected_balances()
    problems = []
    seen = set()
    for balance in StockBalance.objects.select_related("item", "location"):
        key = (balance.item_id, balance.location_id)
        seen.add(key)
        quantity, reserved, value = expected.get(key, (ZERO, ZERO, ZERO))
        if balance.quantity != quantity:
            problems.append(f"{balance}: moves say {quantity}")
        if balance.reserved != reserved:
            problems.append(f"{balance}: {balance.reserved} reserved, active reservations say {reserved}")
        if balance.value != value:
            problems.append(f"{balance}: valued {balance.value}, moves say {value}")
    for key, (quantity, reserved, value) in expected.items():
        if key not in seen and (quantity or reserved or value):
            problems.append(f"item {key[0]} at {key[1]}: no balance row, moves say {quantity}")
    return problems


def rebuild_balances(keys=None) -> list[str]:
    """Write the balances of ``keys`` ((item, location) pairs; None: all) as the moves and reservations say, and
    return the ones left as they were because the result is impossible (negative on hand or value, more reserved
    than on hand: moves or reservations still missing, e.g. quarantined at an edge). The hub calls it for what it
    receives (balances do not sync); on an edge the services keep them current and it changes nothing."""
    with transaction.atomic():
        expected = expected_balances(keys)
        current = StockBalance.objects.select_for_update().order_by("pk")
        if keys is not None:
            keys = set(keys)
            current = current.filter(item_id__in={k[0] for k in keys}, location_id__in={k[1] for k in keys})
        have = {(b.item_id, b.location_id): b for b in current}
        wanted = keys if keys is not None else set(expected) | set(have)
        new, changed, problems = [], [], []
        now = timezone.now()
        for key in sorted(wanted, key=str):
            quantity, reserved, value = expected.get(key, (ZERO, ZERO, ZERO))
            if quantity < 0 or value < 0 or not ZERO <= reserved <= quantity:
                problems.append(f"item {key[0]} at {key[1]}: on hand {quantity}, reserved {reserved}, value {value} "
                                "(not written: moves or reservations missing)")
                continue
            balance = have.get(key)
            if balance is None:
                if quantity or reserved or value:
                    new.append(StockBalance(item_id=key[0], location_id=key[1], quantity=quantity, reserved=reserved,
                                            value=value))
            elif (balance.quantity, balance.reserved, balance.value) != (quantity, reserved, value):
                balance.quantity, balance.reserved, balance.value, balance.updated_at = quantity, reserved, value, now
                changed.append(balance)
        StockBalance.objects.bulk_create(new)
        StockBalance.objects.bulk_update(changed, ["quantity", "reserved", "value", "updated_at"])
    for problem in problems:
        log.warning("inventory: balance %s", problem)
    return problems


def rebuild_balances_on_commit(keys) -> None:
    """Rebuild the balances of ``keys`` once the current transaction commits (the sync hooks of StockMove and
    Reservation at the hub: by then the whole batch is applied, moves and reservations alike, so no balance is
    computed from half of it; a failure is logged and does not touch the applied batch)."""
    keys = set(keys)
    if keys:
        transaction.on_commit(lambda: rebuild_balances(keys), robust=True)
