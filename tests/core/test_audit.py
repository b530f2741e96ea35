import pytest
from django.db import connection

from apps.core.context import Channel, acting
from apps.core.models import AuditEvent
from apps.wells.models import Site


def test_admin_change_appears_in_audit_api_with_its_diff(world, api_for):
    admin = api_for("admin")
    response = admin.patch(f"/api/v1/wells/sites/{world.site_a.pk}/", {"name": "Renamed pad"}, format="json")
    assert response.status_code == 200
    rows = admin.get("/api/v1/audit/", {"object_type": "wells.site", "object_id": str(world.site_a.pk),
                                        "action": "update"}).json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert row["changes"] == {"name": ["Site A1", "Renamed pad"]}
    assert row["actor_name"] == "admin-user" and row["channel"] == "api"
    assert row["field_code"] == "FA" and row["site_code"] == "SA1"


def test_audit_filters_by_user_and_time(world, api_for, personas):
    admin = api_for("admin")
    admin.patch(f"/api/v1/wells/sites/{world.site_a.pk}/", {"name": "One"}, format="json")
    api_for("supervisor").patch(f"/api/v1/wells/sites/{world.site_a.pk}/", {"name": "Two"}, format="json")
    mine = admin.get("/api/v1/audit/", {"user": "supervisor-user", "action": "update"}).json()["results"]
    assert [r["changes"]["name"][1] for r in mine] == ["Two"]
    first = AuditEvent.objects.filter(action="update", object_type="wells.site").order_by("at").first()
    query = {"action": "update", "object_type": "wells.site"}
    assert admin.get("/api/v1/audit/", {**query, "since": first.at.isoformat()}).json()["count"] == 2
    assert admin.get("/api/v1/audit/", {**query, "until": first.at.isoformat()}).json()["count"] == 0


def test_audit_is_readable_by_admin_and_supervisor_only(world, api_for):
    assert api_for("supervisor").get("/api/v1/audit/").status_code == 200
    for role in ("operator", "viewer", "scada"):
        assert api_for(role).get("/api/v1/audit/").status_code == 403


def test_scoped_supervisor_sees_audit_of_their_field_only(world, api_for):
    admin = api_for("admin")
    admin.patch(f"/api/v1/wells/sites/{world.site_a.pk}/", {"name": "A"}, format="json")
    admin.patch(f"/api/v1/wells/sites/{world.site_b.pk}/", {"name": "B"}, format="json")
    rows = api_for("supervisor").get("/api/v1/audit/", {"action": "update"}).json()["results"]
    assert {r["site_code"] for r in rows} == {"SA1"}


def test_delete_and_create_are_audited_with_values(world):
    site = Site.objects.create(field=world.field_a, code="TMP", name="Temporary")
    created = AuditEvent.objects.get(action="create", object_id=str(site.pk))
    assert created.changes["code"] == [None, "TMP"]
    assert created.channel == "system" and created.actor_name == "system"
    pk = site.pk
    with acting(channel=Channel.COMMAND):
        site.delete()
    deleted = AuditEvent.objects.get(action="delete", object_id=str(pk))
    assert deleted.channel == "command" and deleted.changes["name"] == [None, "Temporary"]


def test_saving_without_changes_writes_no_audit_row(world):
    before = AuditEvent.objects.count()
    site = Site.objects.get(pk=world.site_a.pk)
    site.save()
    assert AuditEvent.objects.count() == before


def test_passwords_never_reach_the_audit_trail(personas):
    user = personas["viewer"]
    user.set_password("A-new-secret-99")
    user.email = "new@test.invalid"
    user.save()
    row = AuditEvent.objects.filter(object_id=str(user.pk), action="update").latest("at")
    assert "email" in row.changes
    assert "password" not in row.changes
    assert not AuditEvent.objects.filter(changes__icontains="A-new-secret-99").exists()


def test_audit_rows_are_append_only_in_the_orm(world):
    row = AuditEvent.objects.first()
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(message="x")


@pytest.mark.postgres_only
def test_audit_rows_are_append_only_in_the_database(world):
    from django.db import DatabaseError, transaction

    row = AuditEvent.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET message = 'x' WHERE id = %s", [row.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [row.pk])


def test_admin_site_changes_are_audited_with_channel_admin(world, client, personas):
    from apps.core.testing import PASSWORD

    admin = personas["admin"]
    admin.set_password(PASSWORD)
    admin.save()
    assert client.post("/admin/login/", {"username": "admin-user", "password": PASSWORD}).status_code == 302
    response = client.post(
        f"/admin/wells/site/{world.site_a.pk}/change/",
        {"field": str(world.field_a.pk), "code": "SA1", "name": "Edited in admin", "kind": "pad"},
    )
    assert response.status_code == 302, response.content[:500]
    row = AuditEvent.objects.filter(object_id=str(world.site_a.pk), action="update").latest("at")
    assert row.channel == "admin" and row.actor_name == "admin-user"
    assert row.changes["name"] == ["Site A1", "Edited in admin"]
