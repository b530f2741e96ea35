from django.core import mail

from apps.core.models import Notification
from apps.core.services import notify


def test_notify_by_role_and_field_reaches_the_right_people(personas, world, django_capture_on_commit_callbacks):
    from apps.accounts.services import create_or_update_user

    other_field, _ = create_or_update_user("sup-b", "supervisor", fields=["FB"])
    personas["supervisor"].notify_by_email = True
    personas["supervisor"].save()
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(subject="AFE 24-001 at 92 %", body="Actual + committed passed 90 %.", link="/finance/",
                         severity="warning", role="supervisor", field="FA")
    assert [n.recipient for n in created] == [personas["supervisor"]]
    assert not Notification.objects.filter(recipient=other_field).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[Warning] AFE 24-001 at 92 %"
    assert mail.outbox[0].to == ["supervisor@test.invalid"]
    assert Notification.objects.get(pk=created[0].pk).emailed_at is not None


def test_email_respects_minimum_severity(personas, django_capture_on_commit_callbacks):
    user = personas["operator"]
    user.notify_by_email = True
    user.notify_min_severity = "critical"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify([user], "Info only", severity="info")
        notify([user], "Warning only", severity="warning")
        notify([user], "Critical", severity="critical")
    assert [m.subject for m in mail.outbox] == ["[Critical] Critical"]
    assert Notification.objects.filter(recipient=user).count() == 3


def test_notifications_api_is_per_user_with_unread_count_and_mark_read(personas, api_for):
    notify([personas["viewer"]], "For the viewer")
    notify([personas["viewer"]], "Second")
    theirs = notify([personas["operator"]], "For the operator")[0]
    client = api_for("viewer")
    body = client.get("/api/v1/notifications/").json()
    assert body["count"] == 2 and body["unread_count"] == 2
    first = body["results"][0]["id"]
    marked = client.post(f"/api/v1/notifications/{first}/read/")
    assert marked.status_code == 200 and marked.json()["read"] is True
    assert client.get("/api/v1/notifications/").json()["unread_count"] == 1
    # Another user's notification is invisible: 404, never 403.
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post("/api/v1/notifications/read-all/", {}, format="json").json() == {"marked_read": 1}
    assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_bell_in_the_ui_shell_shows_the_unread_count(personas, client):
    notify([personas["viewer"]], "One")
    notify([personas["viewer"]], "Two")
    client.force_login(personas["viewer"])
    page = client.get("/").content.decode()
    assert 'data-unread="2"' in page
