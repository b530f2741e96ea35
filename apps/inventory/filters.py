import django_filters

from apps.inventory.models import Item, Location, Reservation, StockBalance, StockMove, Warehouse


class ItemFilter(django_filters.FilterSet):
    below_reorder_point = django_filters.BooleanFilter(method="filter_below", label="Below reorder point (any site)")

    class Meta:
        model = Item
        fields = {"sku": ["exact", "icontains"], "category": ["exact"], "serialised": ["exact"], "active": ["exact"]}

    def filter_below(self, queryset, name, value):
        from django.db.models import F, Sum

        annotated = queryset.annotate(avail=Sum("balances__quantity") - Sum("balances__reserved"))
        below = annotated.filter(avail__lt=F("reorder_point"), reorder_point__gt=0).values("pk")
        return queryset.filter(pk__in=below) if value else queryset.exclude(pk__in=below)


class WarehouseFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")
    field = django_filters.CharFilter(field_name="site__field__code")

    class Meta:
        model = Warehouse
        fields = ["site", "field", "kind", "rig", "active"]


class LocationFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="warehouse__site__code")

    class Meta:
        model = Location
        fields = ["warehouse", "site", "code"]


class StockBalanceFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="item__sku")
    warehouse = django_filters.UUIDFilter(field_name="location__warehouse_id")
    site = django_filters.CharFilter(field_name="location__warehouse__site__code")
    in_stock = django_filters.BooleanFilter(field_name="quantity", lookup_expr="gt", method="filter_in_stock")

    class Meta:
        model = StockBalance
        fields = ["item", "sku", "location", "warehouse", "site"]

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(quantity__gt=0) if value else queryset.filter(quantity=0)


class StockMoveFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")
    sku = django_filters.CharFilter(field_name="item__sku")
    since = django_filters.IsoDateTimeFilter(field_name="moved_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="moved_at", lookup_expr="lt")

    class Meta:
        model = StockMove
        fields = ["site", "move_type", "item", "sku", "from_location", "to_location", "target", "well", "afe_line",
                  "cost_center", "reference", "since", "until"]


class ReservationFilter(django_filters.FilterSet):
    class Meta:
        model = Reservation
        fields = ["item", "location", "status", "reference"]
