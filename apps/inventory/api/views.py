from django.db import transaction
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.core.api.exceptions import Conflict
from apps.inventory import services
from apps.inventory.api import serializers as s
from apps.inventory.choices import IssueTarget, MoveType
from apps.inventory.filters import (
    ItemFilter,
    LocationFilter,
    ReservationFilter,
    StockBalanceFilter,
    StockMoveFilter,
    WarehouseFilter,
)
from apps.inventory.models import Item, Location, Reservation, StockBalance, StockMove, Warehouse


class ItemViewSet(ScopedModelViewSet):
    queryset = Item.objects.all()
    serializer_class = s.ItemSerializer
    filterset_class = ItemFilter
    search_fields = ["sku", "description"]
    ordering_fields = ["sku", "description"]


class WarehouseViewSet(ScopedModelViewSet):
    queryset = Warehouse.objects.select_related("site")
    serializer_class = s.WarehouseSerializer
    filterset_class = WarehouseFilter
    search_fields = ["code", "name"]


class LocationViewSet(ScopedModelViewSet):
    queryset = Location.objects.select_related("warehouse")
    serializer_class = s.LocationSerializer
    filterset_class = LocationFilter
    search_fields = ["code", "description"]


class StockBalanceViewSet(ScopedModelViewSet):
    """Read-only: balances change only through stock moves."""

    http_method_names = ["get", "head", "options"]
    queryset = StockBalance.objects.select_related("item", "location__warehouse")
    serializer_class = s.StockBalanceSerializer
    filterset_class = StockBalanceFilter
    ordering_fields = ["quantity", "value"]


def _required(data, *names):
    missing = {n: ["This field is required for this move type."] for n in names if not data.get(n)}
    if missing:
        raise ValidationError(missing)


class StockMoveViewSet(ScopedModelViewSet):
    queryset = StockMove.objects.select_related("item", "from_location", "to_location", "site")
    serializer_class = s.StockMoveSerializer
    filterset_class = StockMoveFilter
    search_fields = ["reference", "serial_number", "item__sku"]
    ordering_fields = ["moved_at"]

    def perform_create(self, serializer):
        d = serializer.validated_data
        kind = d["move_type"]
        common = {"serial_number": d.get("serial_number", "")}
        charge = {"afe_line": d.get("afe_line"), "cost_center": d.get("cost_center")}
        target = {"target": d.get("target") or IssueTarget.COST_CENTER, "well": d.get("well"),
                  "reference": d.get("reference", "")}
        with transaction.atomic():
            if kind == MoveType.RECEIPT:
                _required(d, "to_location", "unit_cost")
                move = services.receive(d["item"], d["to_location"], d["quantity"], d["unit_cost"],
                                        reference=d.get("reference", ""), **common)
            elif kind == MoveType.ISSUE:
                _required(d, "from_location")
                move = services.issue(d["item"], d["from_location"], d["quantity"], reservation=d.get("reservation"),
                                      **charge, **target, **common)
            elif kind == MoveType.TRANSFER:
                _required(d, "from_location", "to_location")
                move = services.transfer(d["item"], d["from_location"], d["to_location"], d["quantity"],
                                         reference=d.get("reference", ""), **common)
            elif kind == MoveType.ADJUSTMENT:
                _required(d, "to_location")
                move = services.adjust(d["item"], d["to_location"], d["quantity"], d.get("reason", ""),
                                       unit_cost=d.get("unit_cost"), **common)
            else:
                _required(d, "to_location")
                move = services.return_stock(d["item"], d["to_location"], d["quantity"], unit_cost=d.get("unit_cost"),
                                             **charge, **target, **common)
            self._check_in_scope(move)
        serializer.instance = move

    def perform_destroy(self, instance):
        raise Conflict("A stock move cannot be deleted; correct it with a return or an adjustment.")


class ReservationViewSet(ScopedModelViewSet):
    queryset = Reservation.objects.select_related("item", "location")
    serializer_class = s.ReservationSerializer
    filterset_class = ReservationFilter
    search_fields = ["reference", "item__sku"]

    def perform_create(self, serializer):
        d = serializer.validated_data
        with transaction.atomic():
            reservation = services.reserve(d["item"], d["location"], d["quantity"], d.get("reference", ""))
            self._check_in_scope(reservation)
        serializer.instance = reservation

    def perform_destroy(self, instance):
        """Deleting a reservation releases it (the row stays, for the record)."""
        services.release(instance)

    @action(detail=True, methods=["post"], rbac_action="change")
    def release(self, request, pk=None):
        return Response(self.get_serializer(services.release(self.get_object())).data)
