from django.conf import settings

from apps.core.navigation import grouped_navigation_for, navigation_for


def shell(request):
    """What the UI shell needs on every page: the site name, the user's role, navigation and unread notifications."""
    user = getattr(request, "user", None)
    data = {"SITE_NAME": settings.SITE_NAME, "EDGE_ID": settings.EDGE_ID, "EDGE_ROLE": settings.EDGE_ROLE,
            "VERSION": settings.VERSION}
    if user is not None and user.is_authenticated:
        from apps.core.models import Notification

        data["nav"] = navigation_for(user)
        data["nav_groups"] = grouped_navigation_for(user)
        data["user_role"] = user.role
        data["unread_notifications"] = Notification.objects.restrict(user, "view").filter(read_at__isnull=True).count()
        data["sync_state"] = _sync_state(user)
    return data


def _sync_state(user):
    """The edge's link to the hub for the header (staff only): alert level and reachability, from one row."""
    if settings.EDGE_ROLE != "edge" or not user.is_staff:
        return None
    try:
        from apps.sync.models import SyncState
    except ImportError:
        return None
    state = SyncState.objects.filter(key="default").values("alert_level", "cloud_reachable").first()
    return state or {"alert_level": "ok", "cloud_reachable": False}
