"""UI pages: scoped list and detail per model, and personnel on board per site per day."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.generic import TemplateView

from apps.core.permissions import can
from apps.core.views import ScopedDetailView, ScopedListView
from apps.hr import models as m
from apps.hr import services

PAGES = [
    (m.Employee, "employees", ["employee_number", "last_name", "first_name", "site", "position", "rotation"]),
    (m.Certificate, "certificates", ["employee", "certification_type", "number", "issued_on", "expires_on"]),
    (m.Crew, "crews", ["name", "site", "rig"]),
    (m.CrewAssignment, "crew-assignments", ["employee", "crew", "start_date", "end_date"]),
    (m.Timesheet, "timesheets", ["date", "employee", "hours", "overtime_hours", "work_order", "job_reference",
                                 "status", "cost"]),
    (m.Position, "positions", ["code", "title", "hourly_rate"]),
    (m.RotationSchedule, "rotations", ["name", "days_on", "days_off"]),
    (m.CertificationType, "certification-types", ["code", "name", "validity_months"]),
    (m.RigCertificationRequirement, "rig-requirements", ["rig", "certification_type"]),
]


class PobView(LoginRequiredMixin, TemplateView):
    template_name = "hr/pob.html"

    def get_context_data(self, **kwargs):
        from apps.wells.models import Site

        if not can(self.request.user, m.CrewAssignment, "view"):
            raise PermissionDenied
        ctx = super().get_context_data(**kwargs)
        day = parse_date(self.request.GET.get("date", "")) or timezone.localdate()
        sites = Site.objects.restrict(self.request.user, "view")
        ctx["day"] = day
        ctx["rows"] = [(site, services.personnel_on_board(site, day)) for site in sites]
        return ctx


def list_view(model, columns):
    return type(f"{model.__name__}ListView", (ScopedListView,), {"model": model, "columns": columns})


def detail_view(model):
    return type(f"{model.__name__}DetailView", (ScopedDetailView,), {"model": model})
