"""Demo data for ``manage.py seed_demo``. Later issues append their own loaders to DEMO_LOADERS."""

from __future__ import annotations

DEMO_PASSWORDS = {
    "admin": "Admin-demo-2026",
    "supervisor": "Super-demo-2026",
    "operator": "Opera-demo-2026",
    "viewer": "Viewe-demo-2026",
    "scada": "Scada-demo-2026",
}

DEMO_LOADERS: list = []  # callables (stdout) -> None, appended by apps in their ready()


def seed_core(stdout) -> None:
    from apps.accounts.services import create_or_update_user
    from apps.wells.models import Field, Site

    north, _ = Field.objects.update_or_create(
        code="NORTH", defaults={"name": "North Basin Field", "country": "Demo", "operator": "Demo Energy",
                                "time_zone": "UTC"})
    south, _ = Field.objects.update_or_create(
        code="SOUTH", defaults={"name": "South Ridge Field", "country": "Demo", "operator": "Demo Energy",
                                "time_zone": "UTC"})
    for code, name, field, lat, lon in (
        ("PAD-A", "Pad A", north, "31.912300", "-102.301100"),
        ("PAD-B", "Pad B", north, "31.921800", "-102.287400"),
        ("GS-1", "Gathering station 1", north, "31.905000", "-102.310000"),
        ("PAD-S1", "South pad 1", south, "31.702000", "-102.101000"),
    ):
        Site.objects.update_or_create(
            code=code, defaults={"name": name, "field": field, "latitude": lat, "longitude": lon,
                                 "kind": "station" if code.startswith("GS") else "pad"})
    people = [
        ("admin", "admin", [], "Ada", "Admin"),
        ("supervisor", "supervisor", ["NORTH"], "Sam", "Supervisor"),
        ("operator", "operator", ["NORTH"], "Olu", "Operator"),
        ("viewer", "viewer", ["NORTH"], "Vic", "Viewer"),
        ("scada", "scada", [], "SCADA", "Gateway"),
    ]
    for username, role, fields, first, last in people:
        create_or_update_user(username, role, password=DEMO_PASSWORDS[username], fields=fields,
                              first_name=first, last_name=last, email=f"{username}@wellsite.invalid")
    stdout.write("Seeded fields NORTH/SOUTH, 4 sites and one user per role.")


DEMO_LOADERS.append(seed_core)
