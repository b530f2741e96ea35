from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from apps.inventory.models import Item, Location, Reservation, StockBalance, StockMove, Warehouse

TS = ["created_at", "updated_at"]


class ItemSerializer(ScopedModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "sku", "description", "uom", "category", "serialised", "reorder_point", "reorder_quantity",
                  "active", *TS]
        read_only_fields = TS


class WarehouseSerializer(ScopedModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "site", "code", "name", "kind", "rig", "active", *TS]
        read_only_fields = TS


class LocationSerializer(ScopedModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "warehouse", "code", "description", *TS]
        read_only_fields = TS


class StockBalanceSerializer(ScopedModelSerializer):
    available = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)
    average_cost = serializers.DecimalField(max_digits=16, decimal_places=4, read_only=True)
    sku = serializers.CharField(source="item.sku", read_only=True)

    class Meta:
        model = StockBalance
        fields = ["id", "item", "sku", "location", "quantity", "reserved", "available", "value", "average_cost", *TS]
        read_only_fields = fields


class StockMoveSerializer(ScopedModelSerializer):
    """POST makes a move through the services (receipt, issue, transfer, adjustment, return). For an adjustment,
    ``quantity`` is signed (negative: a loss). A move is immutable afterwards except for its reference."""

    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit_cost = serializers.DecimalField(max_digits=16, decimal_places=4, required=False, allow_null=True)

    class Meta:
        model = StockMove
        fields = ["id", "site", "move_type", "item", "from_location", "to_location", "quantity", "unit_cost",
                  "total_cost", "serial_number", "reason", "target", "well", "afe_line", "cost_center", "reference",
                  "reservation", "moved_at", *TS]
        read_only_fields = ["site", "total_cost", "moved_at", *TS]

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, StockMove):
            for name, field in fields.items():
                if name != "reference":
                    field.read_only = True
        return fields


class ReservationSerializer(ScopedModelSerializer):
    open_quantity = serializers.DecimalField(max_digits=14, decimal_places=3, read_only=True)

    class Meta:
        model = Reservation
        fields = ["id", "item", "location", "quantity", "issued_quantity", "open_quantity", "reference", "status",
                  *TS]
        read_only_fields = ["issued_quantity", "status", *TS]

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, Reservation):
            for name in ("item", "location", "quantity"):
                fields[name].read_only = True
        return fields
