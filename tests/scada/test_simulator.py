"""The demo loader and the field simulator feeding the real gateway (faults included)."""

import asyncio
import io

import pytest
from django.db import connection

from scada.runtime.samples import BAD, GOOD, STALE
from tests.scada.helpers import until
from tests.servers import free_port


def _seed():
    from apps.core.demo import seed_core
    from scada.demo import seed_scada

    out = io.StringIO()
    seed_core(out)
    seed_scada(out)
    seed_scada(out)  # idempotent
    return out.getvalue()


@pytest.mark.django_db
def test_demo_loader_creates_rtus_tags_and_wells():
    from apps.wells.models import Well
    from scada.models import Device, Tag

    text = _seed()
    assert "Seeded SCADA" in text
    assert set(Device.objects.filter(protocol="modbus_tcp").values_list("name", "site__code")) == {
        ("RTU-1", "PAD-A"), ("RTU-2", "PAD-B")}
    assert Tag.objects.filter(device__protocol="modbus_tcp").count() == 38
    protocols = set(Device.objects.values_list("protocol", flat=True))
    assert {"modbus_tcp", "opcua", "csv"} <= protocols  # every source of the demo seeds its devices
    assert set(Well.objects.filter(name__in=["W01", "W02", "W03", "W04"]).values_list("name", flat=True)) == {
        "W01", "W02", "W03", "W04"}
    thp = Tag.objects.get(name="W03.THP")
    assert (thp.device.name, thp.well.name, thp.scaling, thp.raw_low) == ("RTU-2", "W03", "ma_4_20", 4000.0)
    for device in Device.objects.all():
        device.full_clean()
    for tag in Tag.objects.all():
        tag.full_clean()


@pytest.mark.django_db(transaction=True)
def test_simulated_field_feeds_the_gateway_and_faults_show_as_bad():
    from scada.models import Device, Tag
    from scada.runtime.config import load_config
    from scada.runtime.gateway import Gateway
    from scada.simulator import FieldSimulator

    _seed()
    Device.objects.exclude(protocol="modbus_tcp").update(enabled=False)  # this test is about the RTUs
    for device in Device.objects.filter(enabled=True):  # free ports: tests may run next to a demo
        device.connection = {**device.connection, "port": free_port(), "timeout_s": 0.3}
        device.poll_interval_ms = 100
        device.save()
    tags = {t.name: t for t in Tag.objects.filter(device__enabled=True)}
    configs = list(load_config().values())

    async def scenario():
        simulator = FieldSimulator(configs, tick=0.05)
        await simulator.start()
        stop = asyncio.Event()
        sim_task = asyncio.create_task(simulator.run(stop))
        gw = Gateway(flush_ms=50, reload_s=5, reconnect_max=0.3)
        gw_stop = asyncio.Event()
        gw_task = asyncio.create_task(gw.run(gw_stop))
        cur = gw.store.get

        def all_good():
            return all(cur(t.key) and cur(t.key)[1] == GOOD for t in tags.values())

        await until(all_good, what="every simulated tag Good")
        for t in tags.values():
            value = cur(t.key)[0]
            if t.eng_low is not None:
                assert t.eng_low <= value <= t.eng_high, (t.name, value)
        assert 20 < cur(tags["W01.THP"].key)[0] < 70  # a realistic tubing head pressure, through 4-20 mA counts
        assert cur(tags["W01.RUN"].key)[0] == 1.0
        assert 0 < cur(tags["PAD-B.TANK_LVL"].key)[0] < 100

        await simulator.inject("comm-loss", "RTU-2")
        await until(lambda: cur(tags["W03.THP"].key)[1] == BAD, what="RTU-2 tags Bad")
        assert cur(tags["W01.THP"].key)[1] == GOOD
        await simulator.inject("out-of-range", "RTU-1")
        await until(lambda: cur(tags["W01.PIP"].key)[:2] == (None, BAD), what="NE43 fault Bad")
        assert cur(tags["W01.FLT"].key)[1] == GOOD  # not a loop: unaffected
        await simulator.inject("ok", "RTU-2")
        await until(lambda: cur(tags["W03.THP"].key)[1] == GOOD, what="RTU-2 back")
        gw_stop.set()
        await gw_task
        stop.set()
        await sim_task

    try:
        asyncio.run(scenario())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM scada_historian")


@pytest.mark.django_db(transaction=True)
def test_simulate_field_command_serves_modbus_and_opcua_devices_with_faults():
    """``manage.py simulate_field`` builds the field from the configuration: each Modbus RTU and each OPC-UA
    facility answers on its own address, a named fault reaches the right device, and SIGTERM stops it cleanly."""
    import os
    import signal
    import subprocess
    import sys

    from asyncua import Client
    from pymodbus.client import AsyncModbusTcpClient

    from scada.models import Device
    from scada.sim_opcua import NAMESPACE

    if connection.vendor != "postgresql":
        pytest.skip("the simulator process reads the configuration from a server database")
    _seed()
    Device.objects.exclude(protocol__in=["modbus_tcp", "opcua"]).update(enabled=False)
    ports = {}
    for device in Device.objects.filter(enabled=True):
        ports[device.name] = free_port()
        if device.protocol == "opcua":
            endpoint = f"opc.tcp://127.0.0.1:{ports[device.name]}/wellsite/"
            device.connection = {**device.connection, "endpoint": endpoint}
        else:
            device.connection = {**device.connection, "port": ports[device.name]}
        device.save()
    db = connection.settings_dict
    env = {**os.environ, "DEBUG": "1", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen([sys.executable, "manage.py", "simulate_field", "--only", "modbus,opcua", "--fault",
                             "sensor-fail", "OPC-1", "--fault-after", "1", "--tick", "0.2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    async def probe():
        async def modbus_answers():
            client = AsyncModbusTcpClient("127.0.0.1", port=ports["RTU-1"])
            try:
                return await client.connect() and not (await client.read_input_registers(0, count=1)).isError()
            finally:
                client.close()

        await until(modbus_answers, timeout=30, what="RTU-1 serving")
        client = Client(f"opc.tcp://127.0.0.1:{ports['OPC-1']}/wellsite/")

        async def opcua_answers():
            try:
                await client.connect()
                return True
            except OSError:
                return False

        await until(opcua_answers, timeout=30, what="OPC-1 serving")
        try:
            ns = await client.get_namespace_index(NAMESPACE)
            level = client.get_node(f"ns={ns};s=SEP-1.LVL")

            async def failed():
                return (await level.read_data_value(raise_on_bad_status=False)).StatusCode.name == "BadSensorFailure"

            await until(failed, what="the sensor fault on OPC-1")
            pressure = await client.get_node(f"ns={ns};s=SEP-1.PRES").read_value()
            assert 0 < pressure < 100
        finally:
            await client.disconnect()

    try:
        asyncio.run(probe())
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "RTU-1: Modbus TCP" in out and "OPC-1: OPC-UA separation facility" in out
    assert "fault injected: sensor-fail on OPC-1" in out


@pytest.mark.django_db(transaction=True)
def test_mqtt_field_publishers_feed_the_gateway_json_and_sparkplug(mqtt_url):
    """simulate_field's MQTT publishers, built from the demo's MQTT devices, reach the real gateway through a real
    Mosquitto: JSON batches and the Sparkplug node's birth and data turn every MQTT tag Good; a malformed payload
    lands in the dead-letter table."""
    from scada.ingest.models import DeadLetter
    from scada.models import Device, Tag
    from scada.runtime.config import load_config
    from scada.runtime.gateway import Gateway
    from scada.sim_mqtt import MqttField, seed_mqtt_demo

    _seed()
    Device.objects.exclude(protocol="mqtt").update(enabled=False)
    seed_mqtt_demo(io.StringIO(), broker_url=mqtt_url)
    for device in Device.objects.filter(protocol="mqtt"):  # a private session per test run
        device.connection = {**device.connection, "client_id": f"test-{device.pk}"}
        device.save()
    tags = list(Tag.objects.filter(device__protocol="mqtt"))
    assert len(tags) >= 10
    field = MqttField([d for d in load_config().values() if d.protocol == "mqtt"])
    assert sorted(line.split(":")[0] for line in field.describe()) == sorted(
        Device.objects.filter(protocol="mqtt").values_list("name", flat=True))

    json_name = next(d.name for d in Device.objects.filter(protocol="mqtt") if not d.connection.get("sparkplug"))
    spb_name = next(d.name for d in Device.objects.filter(protocol="mqtt") if d.connection.get("sparkplug"))
    spb_tags = [t for t in tags if t.device.name == spb_name]

    async def scenario():
        gw = Gateway(flush_ms=50, reload_s=5, reconnect_max=0.3)
        gw_stop, sim_stop = asyncio.Event(), asyncio.Event()
        gw_task = asyncio.create_task(gw.run(gw_stop))
        await until(lambda: all(r.connected for r in gw.runners.values()) and gw.runners, what="gateway subscribed")
        await asyncio.to_thread(field.start)
        sim_task = asyncio.create_task(field.run(sim_stop, tick=0.2))
        cur = gw.store.get
        try:
            await until(lambda: all(cur(t.key) and cur(t.key)[1] == GOOD for t in tags), what="every MQTT tag Good")
            await field.inject(json_name, "malformed")
            await until(lambda: gw.db_call(lambda: DeadLetter.objects.filter(source="mqtt").exists()),
                        what="the malformed payload dead-lettered")
            # the edge node drops off the broker: its will (NDEATH) turns its tags Stale; back: a new birth, Good
            await field.inject(spb_name, "broker-disconnect")
            await until(lambda: all(cur(t.key)[1] == STALE for t in spb_tags), what="gauges Stale after NDEATH")
            await field.inject(spb_name, "ok")
            await until(lambda: all(cur(t.key)[1] == GOOD for t in spb_tags), what="gauges Good after the rebirth")
        finally:
            sim_stop.set()
            await sim_task
            await asyncio.to_thread(field.stop)
            gw_stop.set()
            await gw_task

    try:
        asyncio.run(scenario())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM scada_historian")
