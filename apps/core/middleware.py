from __future__ import annotations

from apps.core.context import Channel, acting, client_ip


def channel_for_path(path: str) -> str:
    if path.startswith("/api/"):
        return Channel.API
    if path.startswith("/admin/"):
        return Channel.ADMIN
    return Channel.UI


class ActingContextMiddleware:
    """Sets the acting context (request, channel, client IP) for everything done while serving a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting(channel=channel_for_path(request.path), request=request, ip=client_ip(request)):
            return self.get_response(request)
