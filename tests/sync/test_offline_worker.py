"""The service worker of offline data entry is served by a view so it may control the whole site."""

import pytest

from apps.sync import views_offline

pytestmark = pytest.mark.django_db


def test_worker_is_served_with_root_scope_no_cache_and_its_configuration(client, personas):
    client.force_login(personas["operator"])
    r = client.get("/sync/sw.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/"
    assert r["Cache-Control"] == "no-cache"
    body = r.content.decode()
    config = views_offline.worker_config()
    assert body.startswith("self.WELLSITE_OFFLINE = {")
    assert config["version"] in body
    assert "/static/js/offline/outbox.js" in config["precache"] and "/static/css/app.css" in config["precache"]
    assert config["pages"] == ["/intervention/toolstrings/builder/", "/production/daily/new/",
                               "/drilling/time-log/new/"]


def test_worker_needs_a_signed_in_user(client):
    assert client.get("/sync/sw.js").status_code == 401


def test_cache_version_follows_the_static_files_and_the_setting(settings, tmp_path):
    base = views_offline.cache_version()
    assert base == views_offline.cache_version()  # stable between requests
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "a.js").write_text("one")
    settings.STATICFILES_DIRS = [static, *settings.STATICFILES_DIRS]
    first = views_offline.cache_version()
    (static / "js" / "a.js").write_text("two")  # a deploy changed a file: new caches
    assert views_offline.cache_version() != first
    settings.OFFLINE_CACHE_VERSION = "2026.05-1"
    assert views_offline.cache_version() == "2026.05-1"
