"""Shared by the MQTT/Sparkplug tests: devices, a gateway running in a thread, historian queries, a publisher."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion

from apps.core.context import Channel, acting

_n = [0]


def site():
    from apps.wells.models import Field, Site

    _n[0] += 1
    field = Field.objects.create(code=f"MQF{_n[0]}", name="MQTT field")
    return Site.objects.create(field=field, code=f"MQ-PAD{_n[0]}", name="MQTT pad")


def mqtt_device(url, tags, poll_ms=1000, **connection_settings):
    """An MQTT device with tags ``{tag name: address key}``."""
    from scada.models import Device, Tag

    _n[0] += 1
    device = Device(site=site(), name=f"MQTT-T{_n[0]}", protocol="mqtt", poll_interval_ms=poll_ms,
                    stale_after_intervals=1000, connection={"broker_url": url, **connection_settings})
    device.full_clean()
    device.save()
    made = {}
    for name, key in tags.items():
        tag = Tag(device=device, name=name, data_type="float32", address={"key": key})
        tag.full_clean()
        tag.save()
        made[name] = tag
    return device, made


def rows(tag_key=None):
    with connection.cursor() as cursor:
        if tag_key is None:
            cursor.execute("SELECT tag_key, extract(epoch from ts)::float8, value, quality FROM scada_historian "
                           "ORDER BY ts, tag_key")
        else:
            cursor.execute("SELECT tag_key, extract(epoch from ts)::float8, value, quality FROM scada_historian "
                           "WHERE tag_key = %s ORDER BY ts", [tag_key])
        return cursor.fetchall()


def count_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scada_historian")
        return cursor.fetchone()[0]


def wait_for(predicate, timeout=20.0, what="condition", interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class GatewayThread:
    """The real Gateway (drivers, queue, recorder, historian writer) in its own thread and event loop."""

    def __init__(self, **options):
        from scada.runtime.gateway import Gateway

        self.options = {"flush_ms": 50, "reload_s": 0.2, "reconnect_max": 0.5, **options}
        self.loop = asyncio.new_event_loop()
        self.gateway = None
        self.stop_event = None
        self.error = None
        self.thread = threading.Thread(target=self._main, args=(Gateway,), daemon=True)

    def _main(self, gateway_class):
        asyncio.set_event_loop(self.loop)

        async def main():
            self.gateway = gateway_class(**self.options)
            self.stop_event = asyncio.Event()
            with acting(channel=Channel.GATEWAY):
                await self.gateway.run(self.stop_event)

        try:
            self.loop.run_until_complete(main())
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
        finally:
            from django.db import connections

            connections.close_all()

    def start(self):
        self.thread.start()
        wait_for(lambda: self.gateway is not None and self.gateway.ready.is_set(), what="gateway ready")
        return self

    def stop(self):
        if self.stop_event is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(30)
        if self.error:
            raise self.error

    def driver(self, device):
        runner = self.gateway.runners.get(str(device.pk))
        return runner.driver if runner else None

    def connected(self, device) -> bool:
        runner = self.gateway.runners.get(str(device.pk))
        return bool(runner and runner.connected)

    def current(self, tag):
        return self.gateway.store.get(tag.key)

    def cut_broker_link(self, device):
        """Shut the driver's TCP connection to the broker down (a network cut between gateway and broker): the broker
        keeps the session and its unacknowledged messages, the driver sees the loss and reconnects."""
        driver = self.driver(device)

        def cut():
            if driver._sock is not None:
                driver._sock.shutdown(socket.SHUT_RDWR)

        self.loop.call_soon_threadsafe(cut)


@contextlib.contextmanager
def database_away():
    """The test database down for everyone but the test: it refuses new connections (``ALLOW_CONNECTIONS false``, set
    from the maintenance database: a session cannot set it on its own database) and every other session of it is
    terminated, so the gateway's database thread loses its connection and cannot open another. The test's own
    connection stays open. Restored on exit."""
    import psycopg
    from psycopg import sql

    db = connection.settings_dict
    name = db["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        mine = cursor.fetchone()[0]
    admin = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db.get("PASSWORD") or None,
                            dbname="postgres", autocommit=True)
    try:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                      [name, mine])
        yield
    finally:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
        admin.close()


class Publisher:
    """A plain paho publisher (QoS 1) for the tests, with its own network thread."""

    def __init__(self, url, client_id=""):
        parts = urlsplit(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(parts.hostname, parts.port)
        self.client.loop_start()

    def send(self, topic, payload, qos=1):
        if isinstance(payload, str):
            payload = payload.encode()
        info = self.client.publish(topic, payload, qos=qos)
        return info

    def sync(self, infos, timeout=20):
        for info in infos:
            info.wait_for_publish(timeout)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()
