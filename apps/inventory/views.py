"""UI pages: scoped list and detail per model."""

from apps.core.views import ScopedDetailView, ScopedListView
from apps.inventory import models as m

PAGES = [
    (m.StockBalance, "balances", ["item", "location", "quantity", "reserved", "available", "value"]),
    (m.StockMove, "moves", ["moved_at", "move_type", "item", "quantity", "from_location", "to_location",
                            "total_cost", "reference"]),
    (m.Item, "items", ["sku", "description", "uom", "category", "reorder_point"]),
    (m.Warehouse, "warehouses", ["code", "name", "site", "kind", "rig"]),
    (m.Location, "locations", ["warehouse", "code", "description"]),
    (m.Reservation, "reservations", ["item", "location", "quantity", "issued_quantity", "status", "reference"]),
]


class ItemDetailView(ScopedDetailView):
    model = m.Item
    template_name = "inventory/item_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["balances"] = m.StockBalance.objects.restrict(self.request.user, "view").filter(
            item=self.object).select_related("location__warehouse")
        return ctx


DETAIL_OVERRIDES = {m.Item: ItemDetailView}


def list_view(model, columns):
    return type(f"{model.__name__}ListView", (ScopedListView,), {"model": model, "columns": columns})


def detail_view(model):
    return DETAIL_OVERRIDES.get(model) or type(f"{model.__name__}DetailView", (ScopedDetailView,), {"model": model})
