from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from apps.core import services
from apps.core.api.exceptions import api_404, api_500, json_error_view
from apps.core.models import Notification
from apps.core.permissions import can


@login_required
def home(request):
    from apps.core.models import AuditEvent

    recent = AuditEvent.objects.restrict(request.user, "view")[:10]
    return render(request, "core/home.html", {"recent_audit": recent})


@login_required
def notifications(request):
    qs = Notification.objects.restrict(request.user, "view")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read(request):
    ids = request.POST.getlist("id") or None
    services.mark_read(request.user, ids)
    return HttpResponseRedirect(request.POST.get("next") or "/notifications/")


class ScopedListView(LoginRequiredMixin, ListView):
    """A UI list through the permission choke point (403 if the role may not view the model at all)."""

    paginate_by = 50
    template_name = "core/object_list.html"
    columns: list[str] = []

    def get_queryset(self):
        model = self.model
        if not can(self.request.user, model, "view"):
            raise PermissionDenied
        return model.objects.restrict(self.request.user, "view")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["columns"] = self.columns
        ctx["verbose_name_plural"] = self.model._meta.verbose_name_plural
        return ctx


class ScopedDetailView(LoginRequiredMixin, DetailView):
    """A UI detail page: out-of-scope objects answer 404 like missing ones."""

    template_name = "core/object_detail.html"

    def get_queryset(self):
        return self.model.objects.restrict(self.request.user, "view")


def _is_api(request):
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _is_api(request):
        return api_404(request, exception)
    return render(request, "errors/404.html", status=404)


def handler403(request, exception=None):
    from apps.core.audit import record
    from apps.core.choices import AuditAction

    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        record(AuditAction.PERMISSION_DENIED, message=f"{request.method} {request.path}")
    if _is_api(request):
        return json_error_view(403, "permission_denied", "Your role does not allow this action.")(request)
    return render(request, "errors/403.html", status=403)


def handler500(request):
    if _is_api(request):
        return api_500(request)
    return render(request, "errors/500.html", status=500)
