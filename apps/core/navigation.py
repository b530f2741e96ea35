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
        items.append({"label": item.label, "url": url})
    return items
