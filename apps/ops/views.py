"""/metrics in the Prometheus text format, for admin/scada credentials or a configured network.

Accepted credentials: a session (admin in a browser), a JWT (``Authorization: Bearer``) or HTTP Basic of an active
user whose role is admin or scada (what Prometheus' ``basic_auth`` sends). Clients from OPS_METRICS_NETWORKS (CIDRs,
e.g. the monitoring VLAN or the k3s pod network) need no credentials.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from apps.core.context import client_ip
from apps.core.rbac import ADMIN, SCADA
from apps.ops import metrics as ops_metrics

ALLOWED_ROLES = (ADMIN, SCADA)


def _from_allowed_network(request) -> bool:
    networks = settings.OPS_METRICS_NETWORKS
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def _user(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            username, _, password = base64.b64decode(credentials.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return authenticate(request, username=username, password=password)
    if scheme.lower() == "bearer":
        from rest_framework_simplejwt.authentication import JWTAuthentication
        from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

        auth = JWTAuthentication()
        try:
            validated = auth.get_validated_token(credentials.strip().encode())
            return auth.get_user(validated)
        except (InvalidToken, AuthenticationFailed):
            return None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _denied(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": "not_authenticated" if status == 401 else "permission_denied",
                             "message": message, "details": []}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="metrics"'
    return response


def registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


@never_cache
@require_GET
def metrics(request):
    if not _from_allowed_network(request):
        user = _user(request)
        if user is None or not user.is_active:
            return _denied(401, "Metrics need admin or scada credentials.")
        if getattr(user, "role", None) not in ALLOWED_ROLES:
            return _denied(403, "Only the admin and scada roles may read the metrics.")
    ops_metrics.run_scrape_hooks()
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
