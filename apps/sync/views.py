"""Sync pages: this box's sync status (edge) and, on the hub, the edges with their last sync, backlog, quarantine."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from apps.sync import services
from apps.sync.choices import EventState
from apps.sync.models import OutboxEvent


@login_required
def edges(request):
    user = request.user
    if not (user.is_superuser or getattr(user, "role", None) in ("admin", "supervisor")):
        raise PermissionDenied
    context = {"status": services.status()["status"], "is_hub": settings.EDGE_ROLE == "hub"}
    if context["is_hub"]:
        context["edges"] = services.edges_overview()
    else:
        context["quarantine"] = OutboxEvent.objects.filter(state=EventState.QUARANTINED).order_by("sequence")[:100]
    return render(request, "sync/edges.html", context)
