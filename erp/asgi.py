"""ASGI entry point (daphne): HTTP through Django, websockets through Channels.

Websocket routes are collected from the apps (``erp.routing``); every socket sits behind the allowed-hosts origin
check and the session authentication middleware. Consumers authenticate at connect (session cookie or a JWT in the
first message) and filter every event through the permission choke point.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
# Each HTTP request runs in a thread of its own here (asgiref's ThreadSensitiveContext): close its database connection
# at the end of the request instead of keeping it for a thread that is gone (see erp/settings.py, DATABASES).
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from erp import gctune  # noqa: E402
from erp.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
gctune.tune()  # after start-up: see erp/gctune.py
