"""The OpenAPI schema validates, and Swagger UI loads entirely from this box (no CDN)."""

import re

import yaml
from openapi_spec_validator import validate


def test_schema_is_valid_openapi_3(personas, client):
    client.force_login(personas["viewer"])
    response = client.get("/api/schema/")
    assert response.status_code == 200
    spec = yaml.safe_load(response.content)
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert "/api/auth/login" in spec["paths"]
    assert "/api/v1/audit/" in spec["paths"]


def test_schema_and_docs_need_authentication(client, db):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)


def test_swagger_ui_assets_are_all_local(personas, client):
    client.force_login(personas["viewer"])
    page = client.get("/api/docs/").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r'url: "([^"]+)"', page)
    assert urls, page
    for url in urls:
        assert not url.startswith(("http://", "https://", "//")), url
    assert not re.search(r"https?://(cdn|unpkg|cdnjs)", page)
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts
    for url in scripts:  # the files are really served
        assert client.get(url).status_code == 200, url
