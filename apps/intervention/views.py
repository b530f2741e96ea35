from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from apps.core.permissions import can
from apps.core.views import ScopedDetailView
from apps.intervention import services
from apps.intervention.models import Toolstring


class ToolstringDetailView(ScopedDetailView):
    model = Toolstring
    template_name = "intervention/toolstring_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["report"] = services.check_toolstring(self.object).as_dict()
        return ctx


class ToolstringBuilderView(LoginRequiredMixin, TemplateView):
    """The toolstring builder: add, remove and reorder components; totals and findings update through the JSON
    check endpoint without a page reload (static/js/toolstring.js, no CDN)."""

    template_name = "intervention/toolstring_builder.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        pk = self.kwargs.get("pk")
        if pk is not None:
            ctx["toolstring"] = get_object_or_404(Toolstring.objects.restrict(user, "view"), pk=pk)
        elif not can(user, Toolstring, "add"):
            raise PermissionDenied
        ctx["can_change"] = can(user, Toolstring, "change")
        ctx["can_approve"] = can(user, Toolstring, "approve")
        return ctx
