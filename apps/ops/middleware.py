"""Request metrics and security headers (added to MIDDLEWARE by the operations block of erp/settings.py)."""

from __future__ import annotations

import time

from django.conf import settings

from apps.ops import metrics


class RequestMetricsMiddleware:
    """Counts requests and measures latency by view name (the URL pattern name, never the raw path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match is not None else "unresolved"
        method = request.method if request.method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                                      "OPTIONS") else "other"
        metrics.HTTP_LATENCY.labels(view=view, method=method).observe(time.perf_counter() - started)
        metrics.HTTP_REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy allowing only the box's own assets, plus Permissions-Policy.

    The API docs page (Swagger UI) needs an inline bootstrap script: OPS_CSP_RELAXED_PATHS get the relaxed policy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.OPS_CSP
        if any(request.path.startswith(prefix) for prefix in settings.OPS_CSP_RELAXED_PATHS):
            policy = settings.OPS_CSP_RELAXED
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        return response
