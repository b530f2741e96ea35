"""Hardening: `check --deploy` is clean with production settings, and pages and the API send security headers."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client

from tests.ops.helpers import ROOT


def deploy_check(**extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "WELLSITE_TEST"))}
    env.update({"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "edge.example.local", "DEBUG": "0",
                "VAR_DIR": "/tmp/wellsite-check-deploy", **extra})
    env.pop("TESTING", None)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level",
                           "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = deploy_check(HTTPS_ONLY="1", BEHIND_TLS_PROXY="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_plain_http_settings():
    result = deploy_check()
    assert result.returncode != 0
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in result.stderr + result.stdout, code


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/health", "/api/v1/wells/fields/"])
def test_security_headers(db, path):
    response = Client().get(path)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "http:" not in csp and "https:" not in csp and "unsafe-eval" not in csp  # local assets only
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_api_docs_get_the_relaxed_policy(personas, settings):
    client = Client()
    client.force_login(personas["admin"])
    response = client.get("/api/docs/")
    assert "script-src 'self' 'unsafe-inline'" in response["Content-Security-Policy"]


def test_https_only_redirects_and_sends_hsts(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/accounts/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert Client().get("/api/health").status_code == 200  # probes are exempt from the redirect
    secure = Client().get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
