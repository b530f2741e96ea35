"""The role-aware navigation of the UI shell: an entry shows only if the user's role may view its model."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from apps.core.permissions import can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    model: str | None = None  # "app_label.model": shown only to roles that may view it
    staff_only: bool = False


# Apps append their entries here in their AppConfig.ready() (register_nav).
NAVIGATION: list[NavItem] = [NavItem("Home", "core:home")]


def register_nav(item: NavItem) -> None:
    if item not in NAVIGATION:
        NAVIGATION.append(item)


GROUPS = {
    "core": "Home", "wells": "Wells", "drilling": "Drilling", "production": "Production",
    "intervention": "Intervention", "inventory": "Inventory", "finance": "Finance", "hr": "People",
    "maintenance": "Maintenance", "scada": "SCADA", "alarms": "SCADA", "hmi": "SCADA", "sync": "Sync",
    "ops": "Operations",
}


def grouped_navigation_for(user) -> list[dict]:
    """The user's entries grouped by module (one menu per module in the shell), in registration order."""
    groups: dict[str, list[dict]] = {}
    for item in navigation_for(user):
        groups.setdefault(item["group"], []).append(item)
    return [{"label": label, "items": items} for label, items in groups.items()]


def navigation_for(user) -> list[dict]:
    items = []
    for item in NAVIGATION:
        if item.staff_only and not user.is_staff:
            continue
        if item.model:
            try:
                model = apps.get_model(item.model)
            except LookupError:
                continue
            if not can(user, model, "view"):
                continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        namespace = item.url_name.split(":", 1)[0]
        items.append({"label": item.label, "url": url, "group": GROUPS.get(namespace, namespace.title())})
    return items
