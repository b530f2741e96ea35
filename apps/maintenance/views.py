"""UI pages: scoped list and detail per model; the work-order page shows parts and costs, the reliability page MTBF
and MTTR per equipment class."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.views.generic import TemplateView

from apps.core.permissions import can
from apps.core.views import ScopedDetailView, ScopedListView
from apps.maintenance import models as m
from apps.maintenance import services

PAGES = [
    (m.WorkOrder, "work-orders", ["number", "title", "equipment", "kind", "priority", "status", "planned_start"]),
    (m.Equipment, "equipment", ["tag_number", "name", "site", "well", "equipment_class", "level", "criticality"]),
    (m.PreventivePlan, "pm-plans", ["name", "equipment", "trigger", "interval_days", "interval_hours",
                                    "last_done_date", "active"]),
    (m.WorkOrderPart, "work-order-parts", ["work_order", "item", "quantity", "issued_quantity", "issued_cost"]),
]


class WorkOrderDetailView(ScopedDetailView):
    model = m.WorkOrder
    template_name = "maintenance/workorder_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["parts"] = self.object.parts.select_related("item", "location")
        ctx["costs"] = services.work_order_costs(self.object)
        return ctx


class ReliabilityView(LoginRequiredMixin, TemplateView):
    template_name = "maintenance/reliability.html"

    def get_context_data(self, **kwargs):
        if not can(self.request.user, m.WorkOrder, "view"):
            raise PermissionDenied
        ctx = super().get_context_data(**kwargs)
        ctx["rows"] = services.reliability_by_class(queryset=m.WorkOrder.objects.restrict(self.request.user, "view"))
        return ctx


DETAIL_OVERRIDES = {m.WorkOrder: WorkOrderDetailView}


def list_view(model, columns):
    return type(f"{model.__name__}ListView", (ScopedListView,), {"model": model, "columns": columns})


def detail_view(model):
    return DETAIL_OVERRIDES.get(model) or type(f"{model.__name__}DetailView", (ScopedDetailView,), {"model": model})
