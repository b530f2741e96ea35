"""``/ws/hmi/``: live values and alarms for HMI pages, and operator commands over the same socket.

Protocol (JSON):
- authenticate at connect with the session cookie, or send ``{"type": "auth", "token": "<JWT access>"}`` first;
- ``{"type": "subscribe", "tags": ["W01.THP", ...]}`` or ``{"type": "subscribe", "site": "PAD-A"}`` →
  ``{"type": "snapshot", "seq", "values": [{"tag", "value", "quality", "ts"}], "alarms": [...]}``; then
  ``{"type": "values", "seq", "values": [...]}`` and ``{"type": "alarm", "seq", "alarm": {...}}``;
- commands: ``{"type": "ack", "id"}``, ``{"type": "shelve", "id", "reason", "duration_minutes"}``,
  ``{"type": "write", "tag", "value"}`` → ``{"type": "result", "command", "ok", "error"?, "message"?}``; they go
  through the same services (choke point, audit) as the API;
- a client that sees a gap in ``seq`` sends ``{"type": "resync"}`` (or subscribes again) for a fresh snapshot.

Everything passes the permission choke point: tags and alarms outside the user's fields/sites are never sent. The socket
is closed (4401) when the JWT expires, the user is disabled, or the session that signed it in ends (logout, expiry,
password change), and a command from such a user is refused that way
(both in ``AuthenticatedJsonConsumer``). Without a shared channel layer (the single-process demo
has an in-memory layer, and the gateway is another process) the consumer polls the current-value table instead.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.consumers import AuthenticatedJsonConsumer
from apps.core.context import Channel, acting
from scada.hmi.publisher import site_group

MAX_TAGS = 2000


class HmiConsumer(AuthenticatedJsonConsumer):
    POLL_S = 0.5

    async def on_authenticated(self):
        self.subscribed: dict[str, int] = getattr(self, "subscribed", {})  # tag name -> key
        self.site_ids: set = getattr(self, "site_ids", set())
        self.whole_site = getattr(self, "whole_site", False)
        self.joined: set = getattr(self, "joined", set())
        self._last_request = getattr(self, "_last_request", None)
        if self._last_request is not None:
            await self._subscribe(self._last_request)

    async def disconnect(self, code):
        for group in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)
        poller = getattr(self, "_poller", None)
        if poller is not None:
            poller.cancel()

    # -- commands ------------------------------------------------------------------------------------------------------
    async def on_command(self, content):
        kind = content.get("type")
        if kind == "subscribe":
            self._last_request = content
            await self._subscribe(content)
        elif kind in ("ack", "shelve", "write"):
            result = await database_sync_to_async(self._run_command)(kind, content)
            await self.send_event({"type": "result", "command": kind, **result})
        else:
            await super().on_command(content)

    def _run_command(self, kind: str, content: dict) -> dict:
        from scada.alarms import services as alarms
        from scada.alarms.models import Alarm

        try:
            with acting(channel=Channel.UI, user=self.user, ip=(self.scope.get("client") or [None])[0]):
                if kind == "ack":
                    alarms.acknowledge(self.user, str(content.get("id")), str(content.get("comment", ""))[:300])
                elif kind == "shelve":
                    minutes = int(content.get("duration_minutes") or 0)
                    alarms.shelve(self.user, str(content.get("id")), str(content.get("reason", "")),
                                  timedelta(minutes=minutes))
                else:
                    self._write(content)
        except PermissionDenied as exc:
            from apps.core.audit import record
            from apps.core.choices import AuditAction

            with acting(channel=Channel.UI, user=self.user):
                record(AuditAction.PERMISSION_DENIED, message=f"websocket {kind}: {exc}")
            return {"ok": False, "error": "permission_denied", "message": str(exc)}
        except (Alarm.DoesNotExist, LookupError):
            return {"ok": False, "error": "not_found", "message": "No such object in your scope."}
        except alarms.InvalidTransition as exc:
            return {"ok": False, "error": "conflict", "message": str(exc)}
        except (ValueError, TypeError) as exc:
            return {"ok": False, "error": "validation_error", "message": str(exc)}
        except ValidationError as exc:
            return {"ok": False, "error": "validation_error", "message": "; ".join(exc.messages)}
        return {"ok": True}

    def _write(self, content: dict) -> None:
        from apps.core.permissions import can
        from scada.models import Tag, WriteCommand
        from scada.services import request_write

        if not can(self.user, WriteCommand, "add"):
            raise PermissionDenied(f"Your role ({self.user.role}) may not write setpoints.")
        tag = Tag.objects.restrict(self.user, "view").filter(name=content.get("tag")).first()
        if tag is None:
            raise LookupError(content.get("tag"))
        request_write(tag, float(content.get("value")), self.user)

    # -- subscription and snapshot ---------------------------------------------------------------------------------
    async def _subscribe(self, content: dict):
        tags, site = content.get("tags"), content.get("site")
        if not ((isinstance(tags, list) and all(isinstance(t, str) for t in tags)) or isinstance(site, str)):
            await self.send_event({"type": "error", "error": "validation_error",
                                   "message": "Subscribe with a list of tag names or a site code."})
            return
        tags = tags[:MAX_TAGS] if tags else None
        scope = await database_sync_to_async(self._scope)(tags, site)
        # Join the site groups first, then read the snapshot: a value published in between is then in the snapshot
        # or delivered after it (or both), never in neither. Group messages keep their order, so the page ends on the
        # newest value even if an older delta follows the snapshot.
        new_groups = {site_group(s) for s in scope["site_ids"]}
        for group in new_groups - self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in self.joined - new_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        snapshot = await database_sync_to_async(self._snapshot)(scope)
        self.joined, self.subscribed, self.site_ids = new_groups, snapshot["tags"], snapshot["site_ids"]
        self.whole_site = not tags
        await self.send_event({"type": "snapshot", "values": snapshot["values"], "alarms": snapshot["alarms"],
                               "unknown": snapshot["unknown"]})
        if isinstance(self.channel_layer, InMemoryChannelLayer) and not getattr(settings, "HMI_NO_POLL", False):
            if getattr(self, "_poller", None) is None:
                self._poller = asyncio.ensure_future(self._poll())

    def _scope(self, tags, site) -> dict:
        """The tags (name -> key) and sites this subscription may see (the permission choke point)."""
        from scada.models import Tag

        visible = Tag.objects.restrict(self.user, "view").filter(enabled=True)
        chosen = visible.filter(name__in=tags) if tags else visible.filter(device__site__code=site)
        rows = list(chosen.values_list("name", "key", "device__site_id"))
        names = {name: key for name, key, _ in rows}
        return {"tags": names, "site_ids": {site_id for _, _, site_id in rows},
                "unknown": sorted(set(tags or []) - set(names))}

    def _snapshot(self, scope: dict) -> dict:
        """The current values and active alarms of a resolved scope."""
        from scada.alarms.live import alarm_payload
        from scada.alarms.models import Alarm
        from scada.models import CurrentValue

        names, site_ids = scope["tags"], scope["site_ids"]
        values = [
            {"tag": name, "value": value, "quality": quality, "ts": ts.timestamp() if ts else None}
            for name, value, quality, ts in CurrentValue.objects.filter(tag_key__in=names.values())
            .values_list("tag__name", "value", "quality", "ts")
        ]
        alarms = [alarm_payload(a) for a in Alarm.objects.restrict(self.user, "view")
                  .filter(site_id__in=site_ids).exclude(state="NORMAL").select_related("definition__tag")]
        self._poll_mark = {"values": time.time(), "alarms": time.time()}
        return {**scope, "values": values, "alarms": alarms}

    # -- live events from the gateway --------------------------------------------------------------------------------
    async def hmi_values(self, event):
        if self.whole_site and event.get("raw"):
            # Subscribed to the whole site: every value of the site's group is in scope; forward the encoded list.
            self.seq += 1
            await self.send(text_data=f'{{"type":"values","values":{event["raw"]},"seq":{self.seq}}}')
            return
        wanted = [v for v in event["values"] if v["tag"] in self.subscribed]
        if wanted:
            await self.send_event({"type": "values", "values": wanted})

    async def hmi_alarm(self, event):
        alarm = event["alarm"]
        if alarm.get("site_id") in {str(s) for s in self.site_ids}:
            await self.send_event({"type": "alarm", "alarm": alarm})

    # -- fallback without a shared channel layer ---------------------------------------------------------------------
    async def _poll(self):
        while True:
            await asyncio.sleep(self.POLL_S)
            values, alarms = await database_sync_to_async(self._changes)()
            if values:
                await self.send_event({"type": "values", "values": values})
            for alarm in alarms:
                await self.send_event({"type": "alarm", "alarm": alarm})

    def _changes(self):
        from datetime import UTC, datetime

        from scada.alarms.live import alarm_payload
        from scada.alarms.models import Alarm
        from scada.models import CurrentValue

        since_v = datetime.fromtimestamp(self._poll_mark["values"], UTC)
        since_a = datetime.fromtimestamp(self._poll_mark["alarms"], UTC)
        now = time.time()
        rows = list(CurrentValue.objects.filter(tag_key__in=self.subscribed.values(), updated_at__gt=since_v)
                    .values_list("tag__name", "value", "quality", "ts"))
        alarms = [alarm_payload(a) for a in Alarm.objects.restrict(self.user, "view")
                  .filter(site_id__in=self.site_ids, updated_at__gt=since_a).select_related("definition__tag")]
        self._poll_mark = {"values": now, "alarms": now}
        return ([{"tag": n, "value": v, "quality": q, "ts": ts.timestamp() if ts else None} for n, v, q, ts in rows],
                alarms)
