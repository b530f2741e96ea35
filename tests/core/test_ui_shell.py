import re

from apps.core.testing import PASSWORD


def _login(client, username, password=PASSWORD, next_url=None):
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    page = client.get(url)
    assert page.status_code == 200
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


def _with_password(user):
    user.set_password(PASSWORD)
    user.save()
    return user


def test_login_page_is_csrf_protected(personas):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    _with_password(personas["viewer"])
    response = strict.post("/accounts/login/", {"username": "viewer-user", "password": PASSWORD})
    assert response.status_code == 403
    page = strict.get("/accounts/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    ok = strict.post("/accounts/login/", {"username": "viewer-user", "password": PASSWORD,
                                          "csrfmiddlewaretoken": token})
    assert ok.status_code == 302


def test_pages_need_login_and_next_redirects_back(personas, client, world):
    _with_password(personas["operator"])
    response = client.get("/wells/sites/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/wells/sites/")
    after = _login(client, "operator-user", next_url="/wells/sites/")
    assert after.status_code == 302 and after["Location"] == "/wells/sites/"
    page = client.get("/wells/sites/").content.decode()
    assert "SA1" in page and "SB1" not in page  # scoped to field FA
    assert client.get(f"/wells/sites/{world.site_b.pk}/").status_code == 404


def test_external_next_is_not_followed(personas, client):
    _with_password(personas["viewer"])
    response = _login(client, "viewer-user", next_url="https://evil.example/")
    assert response["Location"] == "/"


def test_navigation_is_role_aware(personas, client):
    client.force_login(personas["admin"])
    admin_page = client.get("/").content.decode()
    client.force_login(personas["scada"])
    scada_page = client.get("/").content.decode()
    assert 'href="/wells/sites/"' in admin_page and 'href="/admin/"' in admin_page
    assert 'href="/wells/sites/"' not in scada_page and 'href="/admin/"' not in scada_page
    assert client.get("/wells/sites/").status_code == 403


def test_ui_lockout_message_after_repeated_failures(personas, client):
    _with_password(personas["viewer"])
    for _ in range(10):
        _login(client, "viewer-user", "wrong")
    page = _login(client, "viewer-user").content.decode()
    assert "Too many failed logins for this account" in page


def test_logout_is_a_post_and_audited(personas, client):
    from apps.core.models import AuditEvent

    client.force_login(personas["viewer"])
    assert client.post("/accounts/logout/").status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor=personas["viewer"], channel="ui").exists()
    assert client.get("/").status_code == 302


def test_api_404_is_json_envelope(client, db):
    response = client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_header_shows_the_hub_link_state_to_staff(personas, client):
    from apps.sync.models import SyncState

    SyncState.objects.update_or_create(key="default", defaults={"alert_level": "critical", "cloud_reachable": False})
    client.force_login(personas["supervisor"])
    page = client.get("/").content.decode()
    assert "hub offline · backlog critical" in page
    client.force_login(personas["viewer"])
    assert "hub offline" not in client.get("/").content.decode()
