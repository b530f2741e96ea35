"""The websocket base every live page uses (alarms, HMI values, notifications).

- Authentication at connect: a browser's session cookie (AuthMiddlewareStack), or, for other clients, a JWT access token
  sent in the FIRST message ``{"type": "auth", "token": "<access>"}`` within ``AUTH_TIMEOUT`` seconds. Never in the
  query string (it would land in proxy logs). Unauthenticated sockets are closed with code 4401.
- Every outgoing message carries a sequence number ``seq`` (per connection, from 1) so a client that sees a gap knows
  it missed something and asks for a fresh snapshot (``{"type": "resync"}``).
- Subclasses implement ``on_authenticated()`` (join groups, send the snapshot) and ``on_command(content)``; they filter
  every event through the permission choke point (``Model.objects.restrict(self.user, ...)``).
"""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def user_from_jwt(token: str):
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import AccessToken

    try:
        access = AccessToken(token)
    except TokenError:
        return None
    user = get_user_model().objects.filter(pk=access.get("user_id"), is_active=True).first()
    if user is not None:
        _ = user.role  # resolve the role once, off the event loop
        user._jwt_exp = access.get("exp")
    return user


class AuthenticatedJsonConsumer(AsyncJsonWebsocketConsumer):
    AUTH_TIMEOUT = 10.0

    user = None
    seq = 0

    async def connect(self):
        self.seq = 0
        await self.accept()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            await self._authenticated(user)
        else:
            self._auth_deadline = asyncio.get_running_loop().call_later(self.AUTH_TIMEOUT, self._auth_timeout)

    def _auth_timeout(self):
        if self.user is None:
            asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))

    async def _authenticated(self, user):
        self.user = user
        if getattr(user, "_jwt_exp", None):
            self.scope["jwt_exp"] = float(user._jwt_exp)  # subclasses close the socket when it passes
        deadline = getattr(self, "_auth_deadline", None)
        if deadline is not None:
            deadline.cancel()
        await database_sync_to_async(lambda: user.role)()
        await self.send_event({"type": "ready", "user": user.get_username(), "role": user.role})
        await self.on_authenticated()

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_event({"type": "error", "error": "validation_error", "message": "Send a JSON object."})
            return
        if self.user is None:
            if content.get("type") == "auth" and isinstance(content.get("token"), str):
                user = await user_from_jwt(content["token"])
                if user is not None:
                    await self._authenticated(user)
                    return
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if content.get("type") == "resync":
            await self.on_resync()
            return
        await self.on_command(content)

    async def send_event(self, payload: dict):
        self.seq += 1
        await self.send_json({**payload, "seq": self.seq})

    # -- for subclasses ------------------------------------------------------------------------------------------------
    async def on_authenticated(self):
        """Join groups and send the initial snapshot."""

    async def on_resync(self):
        await self.on_authenticated()

    async def on_command(self, content: dict):
        await self.send_event({"type": "error", "error": "unknown_command", "message": "Unknown command."})


class NotificationConsumer(AuthenticatedJsonConsumer):
    """Pushes the user's new notifications and unread count (the bell in the UI shell)."""

    async def on_authenticated(self):
        self.group = f"notifications-{self.user.pk}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_event({"type": "snapshot", "unread": await self._unread()})

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    @database_sync_to_async
    def _unread(self) -> int:
        from apps.core.models import Notification

        return Notification.objects.restrict(self.user, "view").filter(read_at__isnull=True).count()

    async def notification_created(self, event):
        await self.send_event({"type": "notification", "notification": event["notification"],
                               "unread": await self._unread()})
