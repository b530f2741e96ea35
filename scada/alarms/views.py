from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from apps.core.permissions import can
from scada.alarms import services
from scada.alarms.choices import AlarmState, Priority
from scada.alarms.models import Alarm, AlarmFlood, AlarmJournal

STANDING = [AlarmState.UNACKED, AlarmState.ACKED, AlarmState.RTN_UNACKED, AlarmState.SHELVED,
            AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE]


@login_required
def summary(request):
    """Alarm summary: active alarms by priority then time, filters, acknowledge/shelve, journal."""
    if not can(request.user, Alarm, "view"):
        raise PermissionDenied
    alarms = Alarm.objects.restrict(request.user, "view").select_related("definition__tag", "site")
    alarms = alarms.filter(state__in=STANDING)
    site, priority, state = (request.GET.get(k, "") for k in ("site", "priority", "state"))
    if site:
        alarms = alarms.filter(site__code=site)
    if priority:
        alarms = alarms.filter(priority=priority)
    if state:
        alarms = alarms.filter(state=state)
    rows = sorted(alarms, key=lambda a: (Priority.rank(a.priority), -(a.raised_at.timestamp() if a.raised_at else 0)))
    journal = AlarmJournal.objects.restrict(request.user, "view").select_related("site")[:50]
    return render(request, "alarms/summary.html", {
        "alarms": rows,
        "journal": Paginator(journal, 50).get_page(1),
        "floods": AlarmFlood.objects.restrict(request.user, "view").filter(active=True).select_related("site"),
        "can_ack": can(request.user, Alarm, "ack"),
        "can_shelve": can(request.user, Alarm, "shelve"),
        "can_remove": can(request.user, Alarm, "remove"),
        "filters": {"site": site, "priority": priority, "state": state},
        "priorities": Priority.choices,
        "states": AlarmState.choices,
    })


@login_required
@require_POST
def act(request, pk, verb):
    try:
        if verb == "ack":
            services.acknowledge(request.user, pk, request.POST.get("comment", ""))
        elif verb == "shelve":
            minutes = int(request.POST.get("duration_minutes") or 0)
            services.shelve(request.user, pk, request.POST.get("reason", ""), timedelta(minutes=minutes))
        elif verb == "unshelve":
            services.unshelve(request.user, pk)
        elif verb == "out-of-service":
            services.remove_from_service(request.user, pk, request.POST.get("reason", ""))
        elif verb == "return-to-service":
            services.return_to_service(request.user, pk)
        else:
            raise PermissionDenied
    except Alarm.DoesNotExist:
        messages.error(request, "No such alarm in your scope.")
    except (services.InvalidTransition, ValueError) as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(request.POST.get("next") or "/alarms/")


@login_required
@require_POST
def ack_page(request):
    """Acknowledge every listed unacknowledged alarm ("acknowledge page")."""
    done = 0
    for pk in request.POST.getlist("id"):
        try:
            services.acknowledge(request.user, pk)
            done += 1
        except (Alarm.DoesNotExist, services.InvalidTransition):
            continue
    messages.info(request, f"Acknowledged {done} alarm(s).")
    return HttpResponseRedirect(request.POST.get("next") or "/alarms/")
