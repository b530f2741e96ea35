from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException, ValidationError

from apps.core.permissions import can
from apps.core.views import ScopedDetailView
from apps.drilling import services
from apps.drilling.models import DrillingReport


class DrillingReportDetailView(ScopedDetailView):
    model = DrillingReport
    template_name = "drilling/report_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        report = self.object
        ctx["rows"] = report.time_log.select_related("activity").order_by("start_time")
        ctx["problems"] = services.time_log_problems(report)
        ctx["can_submit"] = can(user, DrillingReport, "submit")
        ctx["can_approve"] = can(user, DrillingReport, "approve")
        return ctx


@login_required
@require_POST
def transition(request, pk, step):
    """The UI buttons of the DDR workflow (the same services as the API)."""
    needed = {"submit": "submit", "approve": "approve", "return": "approve"}.get(step)
    if needed is None or not can(request.user, DrillingReport, needed):
        raise PermissionDenied
    report = get_object_or_404(DrillingReport.objects.restrict(request.user, "view"), pk=pk)
    try:
        if step == "submit":
            services.submit(report, request.user)
        elif step == "approve":
            services.approve(report, request.user)
        else:
            services.return_to_draft(report, request.user, request.POST.get("reason", ""))
        messages.success(request, f"Report {step} done.")
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
        for key, errors in detail.items():
            for error in errors:
                messages.error(request, f"{key}: {error}")
    except APIException as exc:
        messages.error(request, str(exc.detail))
    return redirect("drilling:drillingreport-detail", pk=report.pk)
