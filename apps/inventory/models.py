"""Inventory: items, warehouses and bins, stock moves, balances and reservations.

Balances are a projection of the moves, maintained by ``apps.inventory.services`` in the same transaction as each
move, under a row lock (SELECT ... FOR UPDATE) on the balance row, and guarded by database CHECK constraints, so no
code path and no concurrency can drive on-hand or reserved stock negative: on hand and value are the sums of the
moves in minus the moves out, reserved the open quantity of the active reservations. ``services.verify_balances``
recomputes them and lists the differences; ``services.rebuild_balances`` writes them (the hub does, for the moves and
reservations synced from edges: balances themselves do not sync).

Valuation is moving average per item per location: a receipt re-averages, an issue takes the proportional share of
the location's value (so the value reaches exactly zero with the last unit).

Reservation: ACTIVE -> CONSUMED (issued) | RELEASED.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.inventory.choices import (
    IssueTarget,
    ItemCategory,
    MoveType,
    ReservationStatus,
    UnitOfMeasure,
    WarehouseKind,
)

QTY = {"max_digits": 14, "decimal_places": 3}
MONEY = {"max_digits": 16, "decimal_places": 2}
ZERO = Decimal("0")


class Item(BaseModel):
    """A stocked item (catalogue master data, shared by all fields)."""

    sku = models.CharField("SKU", max_length=40, unique=True)
    description = models.CharField(max_length=200)
    uom = models.CharField("unit of measure", max_length=8, choices=UnitOfMeasure.choices,
                           default=UnitOfMeasure.EACH)
    category = models.CharField(max_length=16, choices=ItemCategory.choices, default=ItemCategory.SPARE)
    serialised = models.BooleanField(default=False, help_text="Each unit carries a serial number (moved one by one).")
    reorder_point = models.DecimalField(**QTY, default=ZERO, validators=[MinValueValidator(ZERO)],
                                        help_text="Alert when available stock at a site falls below this.")
    reorder_quantity = models.DecimalField(**QTY, default=ZERO, validators=[MinValueValidator(ZERO)])
    active = models.BooleanField(default=True)

    rbac = rbac.SUPERVISOR_WRITES
    sync_direction = "both"  # apps.sync: catalogue authored at the hub and pulled by edges; an edge
    # supervisor may add an item offline, which then goes up so its moves are accepted (SKU is unique)

    class Meta:
        ordering = ["sku"]

    def __str__(self):
        return f"{self.sku} {self.description}"


class Warehouse(BaseModel):
    """A store at a site (site store, rig store, pipe yard)."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="warehouses")
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=WarehouseKind.choices, default=WarehouseKind.SITE_STORE)
    rig = models.ForeignKey("drilling.Rig", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="warehouses", help_text="For a rig store.")
    active = models.BooleanField(default=True)

    scope = FieldScope("site__field__code", site="site__code")
    sync_direction = "up"  # apps.sync: a store at the edge's site

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Location(BaseModel):
    """A bin location in a warehouse."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=32)
    description = models.CharField(max_length=120, blank=True)

    scope = FieldScope("warehouse__site__field__code", site="warehouse__site__code")
    sync_direction = "up"  # apps.sync: bin of a store at the edge's site

    class Meta:
        ordering = ["warehouse__code", "code"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="inventory_location_unique_code")]

    def __str__(self):
        return f"{self.warehouse.code}/{self.code}"

    @property
    def site(self):
        return self.warehouse.site


class StockBalance(BaseModel):
    """On-hand and reserved quantity and moving-average value of an item at a location (derived from moves)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="balances")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="balances")
    quantity = models.DecimalField(**QTY, default=ZERO)
    reserved = models.DecimalField(**QTY, default=ZERO)
    value = models.DecimalField(**MONEY, default=ZERO)

    scope = FieldScope("location__warehouse__site__field__code", site="location__warehouse__site__code")
    rbac = rbac.READ_ONLY
    audited = False  # every change is a StockMove (audited) or a Reservation (audited)

    class Meta:
        ordering = ["item__sku", "location__code"]
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="inventory_balance_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="inventory_balance_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0) & Q(reserved__lte=F("quantity")),
                                   name="inventory_reserved_within_on_hand"),
            models.CheckConstraint(condition=Q(value__gte=0), name="inventory_value_not_negative"),
        ]

    def __str__(self):
        return f"{self.item.sku} @ {self.location}: {self.quantity}"

    @property
    def available(self) -> Decimal:
        return self.quantity - self.reserved

    @property
    def average_cost(self) -> Decimal:
        return (self.value / self.quantity).quantize(Decimal("0.0001")) if self.quantity else ZERO


class StockMove(BaseModel):
    """One movement of stock, created only by the inventory services (immutable once made; a mistake is corrected
    by a return or an adjustment)."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="stock_moves", editable=False)
    move_type = models.CharField(max_length=12, choices=MoveType.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="moves")
    from_location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="moves_out")
    to_location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="moves_in")
    quantity = models.DecimalField(**QTY, validators=[MinValueValidator(Decimal("0.001"))])
    unit_cost = models.DecimalField(max_digits=16, decimal_places=4, default=ZERO)
    total_cost = models.DecimalField(**MONEY, default=ZERO)
    serial_number = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True, help_text="Required for adjustments.")
    target = models.CharField(max_length=16, choices=IssueTarget.choices, blank=True,
                              help_text="What an issue (or return) is for.")
    well = models.ForeignKey("wells.Well", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    afe_line = models.ForeignKey("finance.AFELine", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="stock_moves")
    cost_center = models.ForeignKey("finance.CostCenter", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="stock_moves")
    reference = models.CharField(max_length=100, blank=True, help_text="Job, work order, PO or delivery ticket.")
    reservation = models.ForeignKey("inventory.Reservation", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="moves")
    moved_at = models.DateTimeField()

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: the stock ledger of the site; the hub rebuilds the balances from the moves

    class Meta:
        ordering = ["-moved_at"]
        indexes = [models.Index(fields=["item", "moved_at"]), models.Index(fields=["site", "moved_at"])]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_move_positive_qty")]

    def __str__(self):
        return f"{self.get_move_type_display()} {self.quantity} {self.item.sku}"

    # -- sync hooks (apps/sync/registry.py) ----------------------------------------------------------------------------
    # StockBalance is a projection of the moves (quantity, value) and of the active reservations (reserved): it does
    # not sync. The extras are empty: they only make the hub call sync_apply_extras for the moves (and reservations)
    # it has just applied, which rebuilds their balances there once the batch is committed.
    def sync_extras(self) -> dict:
        return {}

    @classmethod
    def sync_apply_extras(cls, rows: dict) -> None:
        from apps.inventory.services import rebuild_balances_on_commit

        keys = set()
        for item, src, dst in cls._base_manager.filter(pk__in=list(rows)).values_list(
                "item_id", "from_location_id", "to_location_id"):
            keys.update((item, loc) for loc in (src, dst) if loc is not None)
        rebuild_balances_on_commit(keys)


class Reservation(BaseModel):
    """Stock set aside for a work order or job: it stays on hand but is no longer available to other issues."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="reservations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.DecimalField(**QTY, validators=[MinValueValidator(Decimal("0.001"))])
    issued_quantity = models.DecimalField(**QTY, default=ZERO, editable=False)
    reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE,
                              editable=False)

    scope = FieldScope("location__warehouse__site__field__code", site="location__warehouse__site__code")
    rbac = rbac.OPERATOR_WRITES
    sync_direction = "up"  # apps.sync: moves and work-order parts point at it

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.quantity} {self.item.sku} for {self.reference or '-'}"

    @property
    def open_quantity(self) -> Decimal:
        return self.quantity - self.issued_quantity if self.status == ReservationStatus.ACTIVE else ZERO

    def clean(self):
        if self.item_id and self.item.serialised and self.quantity is not None and self.quantity != int(self.quantity):
            raise ValidationError({"quantity": "A serialised item is reserved in whole units."})

    # -- sync hooks: like StockMove's (the hub rebuilds the reserved quantity of the balances) -------------------------
    def sync_extras(self) -> dict:
        return {}

    @classmethod
    def sync_apply_extras(cls, rows: dict) -> None:
        from apps.inventory.services import rebuild_balances_on_commit

        rebuild_balances_on_commit(set(cls._base_manager.filter(pk__in=list(rows)).values_list("item_id",
                                                                                                "location_id")))
