from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.inventory import models as m

RO = ScopedAdmin.readonly_fields


class LocationInline(admin.TabularInline):
    model = m.Location
    extra = 0


class BalanceInline(admin.TabularInline):
    model = m.StockBalance
    extra = 0
    can_delete = False
    fields = ["location", "quantity", "reserved", "value"]
    readonly_fields = fields


@admin.register(m.Item)
class ItemAdmin(ScopedAdmin):
    list_display = ["sku", "description", "uom", "category", "serialised", "reorder_point", "active"]
    search_fields = ["sku", "description"]
    list_filter = ["category", "uom", "serialised", "active"]
    inlines = [BalanceInline]


@admin.register(m.Warehouse)
class WarehouseAdmin(ScopedAdmin):
    list_display = ["code", "name", "site", "kind", "rig", "active"]
    search_fields = ["code", "name"]
    list_filter = ["kind", "active", "site__field"]
    inlines = [LocationInline]


@admin.register(m.Location)
class LocationAdmin(ScopedAdmin):
    list_display = ["warehouse", "code", "description"]
    search_fields = ["code", "warehouse__code"]
    list_filter = ["warehouse"]


@admin.register(m.StockBalance)
class StockBalanceAdmin(ScopedAdmin):
    """Read-only: balances change through stock moves only."""

    list_display = ["item", "location", "quantity", "reserved", "value"]
    search_fields = ["item__sku", "location__code"]
    list_filter = ["location__warehouse"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.StockMove)
class StockMoveAdmin(ScopedAdmin):
    """Read-only: moves are made through the API/services so balances and costs stay consistent."""

    list_display = ["moved_at", "move_type", "item", "quantity", "from_location", "to_location", "total_cost",
                    "reference"]
    search_fields = ["item__sku", "reference", "serial_number"]
    list_filter = ["move_type", "target", "site"]
    date_hierarchy = "moved_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.Reservation)
class ReservationAdmin(ScopedAdmin):
    list_display = ["item", "location", "quantity", "issued_quantity", "status", "reference"]
    search_fields = ["item__sku", "reference"]
    list_filter = ["status"]
    readonly_fields = (*RO, "item", "location", "quantity", "issued_quantity", "status")
