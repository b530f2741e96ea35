"""HMI displays (ISA-101 hierarchy): L1 field overview, L2 site/well display. Values arrive over /ws/hmi/."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render

from apps.core.permissions import can
from apps.wells.models import Site
from scada.alarms.models import Alarm
from scada.models import Tag


def _kiosk(request) -> bool:
    return request.GET.get("kiosk") == "1"


@login_required
def overview(request):
    """L1: every site in scope with its wells, key values and alarm counts by priority."""
    if not can(request.user, Tag, "view"):
        raise PermissionDenied
    sites = Site.objects.restrict(request.user, "view").select_related("field").prefetch_related("wells")
    standing = Q(alarms__state__in=["UNACKED", "ACKED", "RTN_UNACKED"])
    counts = {
        row["pk"]: row for row in Site.objects.restrict(request.user, "view").values("pk").annotate(
            critical=Count("alarms", filter=standing & Q(alarms__priority="critical")),
            high=Count("alarms", filter=standing & Q(alarms__priority="high")),
            medium=Count("alarms", filter=standing & Q(alarms__priority="medium")),
            low=Count("alarms", filter=standing & Q(alarms__priority="low")),
        )
    }
    tags = Tag.objects.restrict(request.user, "view").filter(enabled=True).select_related("device", "well")
    key_tags: dict = {}
    for tag in tags:
        suffix = tag.name.rsplit(".", 1)[-1]
        if suffix in ("THP", "CHP", "FLP", "QO", "QG", "ESP_AMPS", "ESP_HZ"):
            key_tags.setdefault(tag.device.site_id, []).append(tag)
    order = {"THP": 0, "CHP": 1, "FLP": 2, "QO": 3, "QG": 4, "ESP_AMPS": 5, "ESP_HZ": 6}
    for tags_of_site in key_tags.values():  # the most telling values first: THP of every well, then CHP...
        tags_of_site.sort(key=lambda t: (order.get(t.name.rsplit(".", 1)[-1], 9), t.name))
    rows = [{"site": s, "alarms": counts.get(s.pk, {}), "tags": key_tags.get(s.pk, [])[:12]} for s in sites]
    return render(request, "hmi/overview.html", {"rows": rows, "kiosk": _kiosk(request),
                                                 "subscribe": [t.name for r in rows for t in r["tags"]]})


@login_required
def site(request, code):
    """L2: one pad/station: its wells and every tag as an analog bar against its range and alarm limits."""
    site = Site.objects.restrict(request.user, "view").filter(code=code).first()
    if site is None:
        raise Http404
    tags = list(Tag.objects.restrict(request.user, "view").filter(device__site=site, enabled=True)
                .select_related("well", "device").prefetch_related("alarm_definitions").order_by("name"))
    groups: dict = {}
    for tag in tags:
        groups.setdefault(tag.well.name if tag.well_id else tag.device.name, []).append(tag)
    limits = {t.name: {d.kind: d.setpoint for d in t.alarm_definitions.all() if d.setpoint is not None}
              for t in tags}
    return render(request, "hmi/site.html", {
        "site": site, "groups": groups, "limits": limits, "kiosk": _kiosk(request),
        "can_ack": can(request.user, Alarm, "ack"), "can_shelve": can(request.user, Alarm, "shelve"),
    })


@login_required
def trend(request):
    """L3: trends of chosen tags (several pens), history from the history API, live points appended, zoom by drag."""
    visible = Tag.objects.restrict(request.user, "view").filter(enabled=True).select_related("device__site")
    names = [n for n in request.GET.get("tags", "").split(",") if n][:8]
    chosen = list(visible.filter(name__in=names)) if names else []
    site = request.GET.get("site")
    choices = visible.filter(device__site__code=site) if site else visible
    try:
        hours = max(1, min(24 * 31, int(request.GET.get("hours", 4))))
    except ValueError:
        hours = 4
    return render(request, "hmi/trend.html", {
        "chosen": chosen, "choices": choices.order_by("name")[:500], "hours": hours, "kiosk": _kiosk(request),
        "tag_names": ",".join(t.name for t in chosen),
    })
