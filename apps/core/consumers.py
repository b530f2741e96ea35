"""The websocket base every live page uses (alarms, HMI values, notifications).

- Authentication at connect: a browser's session cookie (AuthMiddlewareStack), or, for other clients, a JWT access token
  sent in the FIRST message ``{"type": "auth", "token": "<access>"}`` within ``AUTH_TIMEOUT`` seconds. Never in the
  query string (it would land in proxy logs). Unauthenticated sockets are closed with code 4401.
- Every outgoing message carries a sequence number ``seq`` (per connection, from 1) so a client that sees a gap knows
  it missed something and asks for a fresh snapshot (``{"type": "resync"}``).
- A live socket stays authenticated only while its user does: every ``RECHECK_S`` seconds (and when a JWT's expiry
  passes) the socket checks that the token has not expired and that the user still exists and is active, and closes
  with 4401 otherwise; every message from the client (commands, resync) is checked the same way first, so a disabled
  user's open page can neither act nor ask for data. A socket signed in by the session cookie is also held to its
  session: it closes once that session is gone (logout), expired, or no longer carries the user's current session
  auth hash (password change), as the next HTTP request of that browser would be refused. This lives here, once, for
  every consumer built on this class.
- Subclasses implement ``on_authenticated()`` (join groups, send the snapshot) and ``on_command(content)``; they filter
  every event through the permission choke point (``Model.objects.restrict(self.user, ...)``).
"""

from __future__ import annotations

import asyncio
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError

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
    RECHECK_S = 30.0  # how often an idle socket checks that its user is still active

    user = None
    seq = 0
    _watch: asyncio.Future | None = None
    _session_key: str | None = None  # set when the session cookie signed the socket in: the recheck follows it

    async def connect(self):
        self.seq = 0
        await self.accept()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            session = self.scope.get("session")
            self._session_key = getattr(session, "session_key", None)
            await self._authenticated(user)
        else:
            self._auth_deadline = asyncio.get_running_loop().call_later(self.AUTH_TIMEOUT, self._auth_timeout)

    def _auth_timeout(self):
        if self.user is None:
            asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))

    async def _authenticated(self, user):
        self.user = user
        if getattr(user, "_jwt_exp", None):
            self.scope["jwt_exp"] = float(user._jwt_exp)  # the socket closes when it passes (_watch_session)
        deadline = getattr(self, "_auth_deadline", None)
        if deadline is not None:
            deadline.cancel()
        if self._watch is None:
            self._watch = asyncio.ensure_future(self._watch_session())
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
        if not await self.session_valid():  # act for (or send data to) a user who is still allowed, never a stale one
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if content.get("type") == "resync":
            await self.on_resync()
            return
        await self.on_command(content)

    # -- session validity ------------------------------------------------------------------------------------------
    async def session_valid(self) -> bool:
        """The JWT (if the socket authenticated with one) has not expired, or the session (if the cookie signed the
        socket in) still holds this user; and the user still exists and is active."""
        token_exp = self.scope.get("jwt_exp")
        if token_exp is not None and time.time() >= token_exp:
            return False
        if self._session_key is not None:
            return await database_sync_to_async(self._session_still_valid)()
        return await database_sync_to_async(self._still_active)()

    def _still_active(self) -> bool:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.user.pk, is_active=True).exists()

    def _session_still_valid(self) -> bool:
        """Django's own session-to-user rules (``django.contrib.auth.get_user``), read-only: the session row still
        exists and has not expired (the store's ``load`` answers an empty session otherwise), it names this user and
        an allowed backend, the backend still returns the user (ModelBackend: active), and the stored session auth
        hash matches the user's current password hash (or one made with a ``SECRET_KEY_FALLBACKS`` key). Two
        queries: the session and the user. Unlike ``get_user`` it never flushes or cycles the session: the browser
        keeps its cookie, and its next HTTP request gets Django's usual answer."""
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
        from django.utils.crypto import constant_time_compare

        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=self._session_key)
        try:
            user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])  # a gone/expired session: KeyError
            backend_path = session[BACKEND_SESSION_KEY]
        except (KeyError, ValidationError):
            return False
        if user_id != self.user.pk or backend_path not in settings.AUTHENTICATION_BACKENDS:
            return False
        user = load_backend(backend_path).get_user(user_id)
        if user is None or not user.is_active:
            return False
        session_hash = session.get(HASH_SESSION_KEY)
        if not session_hash:
            return False
        return constant_time_compare(session_hash, user.get_session_auth_hash()) or any(
            constant_time_compare(session_hash, fallback) for fallback in user.get_session_auth_fallback_hash())

    async def _watch_session(self):
        """Close the socket (4401) once the session is no longer valid: checked every ``RECHECK_S`` and at the token's
        expiry."""
        while True:
            token_exp = self.scope.get("jwt_exp")
            delay = self.RECHECK_S if token_exp is None else min(self.RECHECK_S, token_exp - time.time())
            await asyncio.sleep(max(0.05, delay))
            if not await self.session_valid():
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return

    async def websocket_disconnect(self, message):
        if self._watch is not None:  # here rather than in disconnect(): subclasses override that one
            self._watch.cancel()
            self._watch = None
        await super().websocket_disconnect(message)

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
