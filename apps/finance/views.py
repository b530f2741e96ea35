"""UI pages: a scoped list and detail per model (through the permission choke point); the AFE page adds its report."""

from apps.core.views import ScopedDetailView, ScopedListView
from apps.finance import models as m
from apps.finance import services

# (model, url segment, list columns)
PAGES = [
    (m.AFE, "afes", ["number", "title", "site", "well", "afe_type", "status", "approved_amount"]),
    (m.CostEntry, "cost-entries", ["date", "amount", "source_type", "afe_line", "cost_center", "description"]),
    (m.JournalEntry, "journal-entries", ["date", "memo", "status", "site"]),
    (m.CostCenter, "cost-centers", ["code", "name", "site", "active"]),
    (m.Account, "accounts", ["code", "name", "account_type", "active"]),
    (m.AFELine, "afe-lines", ["afe", "category", "cost_class", "estimate"]),
    (m.AFEPartner, "afe-partners", ["afe", "partner", "working_interest"]),
    (m.AFESupplement, "afe-supplements", ["afe", "amount", "status"]),
    (m.Vendor, "vendors", ["code", "name", "active"]),
    (m.PurchaseOrder, "purchase-orders", ["number", "vendor", "site", "amount", "status"]),
    (m.Invoice, "invoices", ["number", "vendor", "purchase_order", "amount", "status"]),
]


class AFEDetailView(ScopedDetailView):
    model = m.AFE
    template_name = "finance/afe_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["report"] = services.afe_report(self.object)
        return ctx


class JournalEntryDetailView(ScopedDetailView):
    model = m.JournalEntry
    template_name = "finance/journalentry_detail.html"


DETAIL_OVERRIDES = {m.AFE: AFEDetailView, m.JournalEntry: JournalEntryDetailView}


def list_view(model, columns):
    return type(f"{model.__name__}ListView", (ScopedListView,), {"model": model, "columns": columns})


def detail_view(model):
    return DETAIL_OVERRIDES.get(model) or type(f"{model.__name__}DetailView", (ScopedDetailView,), {"model": model})
