"""Websocket URL patterns of every app, in one list for erp.asgi."""

from importlib import import_module

from django.conf import settings

websocket_urlpatterns: list = []
for _app in settings.INSTALLED_APPS:
    if not _app.startswith(("apps.", "scada")):
        continue
    try:
        _module = import_module(f"{_app}.routing")
    except ModuleNotFoundError as exc:
        if exc.name != f"{_app}.routing":
            raise
        continue
    websocket_urlpatterns += getattr(_module, "websocket_urlpatterns", [])
