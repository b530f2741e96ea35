import django_filters

from apps.finance.models import (
    AFE,
    Account,
    AFELine,
    AFEPartner,
    AFESupplement,
    CostCenter,
    CostEntry,
    Invoice,
    JournalEntry,
    PurchaseOrder,
    Vendor,
)


class SiteFilterSet(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code", help_text="Site code.")
    field = django_filters.CharFilter(field_name="site__field__code", help_text="Field code.")


class AccountFilter(django_filters.FilterSet):
    class Meta:
        model = Account
        fields = ["account_type", "active", "code"]


class CostCenterFilter(SiteFilterSet):
    class Meta:
        model = CostCenter
        fields = ["site", "field", "active", "code"]


class JournalEntryFilter(SiteFilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    account = django_filters.CharFilter(field_name="lines__account__code", distinct=True)

    class Meta:
        model = JournalEntry
        fields = ["site", "field", "status", "source_type", "source_id", "date_from", "date_to", "account"]


class AFEFilter(SiteFilterSet):
    well = django_filters.UUIDFilter(field_name="well_id")

    class Meta:
        model = AFE
        fields = ["site", "field", "well", "status", "afe_type", "number", "owner"]


class AFELineFilter(django_filters.FilterSet):
    class Meta:
        model = AFELine
        fields = ["afe", "category", "cost_class"]


class AFEPartnerFilter(django_filters.FilterSet):
    class Meta:
        model = AFEPartner
        fields = ["afe", "partner"]


class AFESupplementFilter(django_filters.FilterSet):
    class Meta:
        model = AFESupplement
        fields = ["afe", "status"]


class CostEntryFilter(SiteFilterSet):
    afe = django_filters.UUIDFilter(field_name="afe_line__afe_id")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = CostEntry
        fields = ["site", "field", "afe", "afe_line", "cost_center", "source_type", "source_id", "date_from",
                  "date_to"]


class VendorFilter(django_filters.FilterSet):
    class Meta:
        model = Vendor
        fields = {"code": ["exact"], "name": ["icontains"], "active": ["exact"]}


class PurchaseOrderFilter(SiteFilterSet):
    afe = django_filters.UUIDFilter(field_name="afe_line__afe_id")

    class Meta:
        model = PurchaseOrder
        fields = ["site", "field", "vendor", "status", "afe", "afe_line", "cost_center", "number"]


class InvoiceFilter(SiteFilterSet):
    class Meta:
        model = Invoice
        fields = ["site", "field", "vendor", "purchase_order", "status", "number"]
