"""The OPC-UA driver against a real asyncua server (the simulated separation facility, in its own thread and loop):
batched values, deadband, StatusCode -> quality, non-numeric values, an unknown node id, writes with the server's
reason, a server restart (Bad, reconnect, resubscribe), and the gateway end to end into the PostgreSQL historian.

One server for the module (asyncua servers take about a second to start); the tests run in this order and leave the
values they changed as they found them where it matters."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from asyncua import ua
from django.db import connection

from scada.drivers.base import WriteError
from scada.drivers.opcua import OpcUaDriver, epoch, quality_of
from scada.runtime.config import DeviceConfig, TagConfig
from scada.runtime.samples import BAD, GOOD, UNCERTAIN
from tests.scada.helpers import until
from tests.scada.opcua_servers import OpcUaServerThread


@pytest.fixture(scope="module")
def server():
    s = OpcUaServerThread().start()
    yield s
    s.close()


def _tag(key, name, node_id, **extra):
    return TagConfig(key=key, id=str(key), name=name, data_type="float64", address={"node_id": node_id}, **extra)


def _config(server, tags, poll_s=0.05, **settings):
    return DeviceConfig(id="opc", name="OPC-T", protocol="opcua", poll_interval_s=poll_s, stale_after_intervals=3,
                        settings={"endpoint": server.endpoint, "security_mode": "None", "security_policy": "None",
                                  "timeout_s": 4.0, "queue_size": 10, "keepalive_s": 1.0, "watchdog_s": 0.5,
                                  **settings},
                        tags=tuple(tags))


class Recorder:
    def __init__(self):
        self.batches = []

    async def __call__(self, samples, on_commit=None):
        self.batches.append(list(samples))

    def of(self, key):
        return [(s.value, s.quality) for batch in self.batches for s in batch if s.key == key]

    def last(self, key):
        values = self.of(key)
        return values[-1] if values else None


def test_quality_and_timestamp_helpers():
    assert quality_of(ua.StatusCode(ua.StatusCodes.Good)) == GOOD
    assert quality_of(ua.StatusCode(ua.StatusCodes.UncertainLastUsableValue)) == UNCERTAIN
    assert quality_of(ua.StatusCode(ua.StatusCodes.BadSensorFailure)) == BAD
    assert epoch(datetime(2026, 1, 1)) == epoch(datetime(2026, 1, 1, tzinfo=UTC)) == 1767225600.0  # naive = UTC


def test_subscription_values_deadband_status_codes_unknown_node_and_writes(server, caplog):
    ids = server.node_ids()
    pres = _tag(1, "SEP-1.PRES", ids["SEP-1.PRES"])
    lvl = _tag(2, "SEP-1.LVL", ids["SEP-1.LVL"], deadband=0.5)
    temp = _tag(3, "SEP-1.TEMP", ids["SEP-1.TEMP"])
    lcv = _tag(4, "LCV-1.OUT", ids["LCV-1.OUT"], writable=True)
    mode = _tag(5, "LIC-1.MODE", ids["LIC-1.MODE"])
    missing = _tag(6, "SEP-9.PRES", "ns=2;s=SEP-9.PRES")
    gas = _tag(7, "FT-GAS.FLOW", ids["FT-GAS.FLOW"], scaling="linear", raw_low=0, raw_high=86_400, eng_low=0,
               eng_high=3600)  # a scaled tag: Sm3/d on the wire, Sm3/h in the product
    tags = [pres, lvl, temp, lcv, mode, missing, gas]
    for name, value in (("SEP-1.PRES", 28.0), ("SEP-1.LVL", 50.0), ("SEP-1.TEMP", 58.0), ("LCV-1.OUT", 40.0),
                        ("FT-GAS.FLOW", 172_800.0)):
        server.set(name, value)
    publish = Recorder()

    async def scenario():
        driver = OpcUaDriver(_config(server, tags), publish)
        await driver.connect()
        task = asyncio.create_task(driver.run())
        try:
            await until(lambda: publish.last(temp.key), what="initial values")
            # the unknown node is Bad with a reason; the others are fine
            assert publish.of(missing.key) == [(None, BAD)]
            assert "BadNodeIdUnknown" in driver.failed[missing.key]
            # the initial values of every monitored item came in one notification message -> one batch
            first = next(b for b in publish.batches if any(s.key == pres.key for s in b))
            assert {s.key for s in first} >= {pres.key, lvl.key, temp.key, lcv.key, mode.key, gas.key}
            assert publish.last(pres.key) == (28.0, GOOD)
            assert publish.last(gas.key) == (pytest.approx(7200.0), GOOD)
            assert publish.last(mode.key) == (None, BAD)  # a String is never stored as a number

            # deadband 0.5 (absolute, engineering units), applied by the server against the last reported value
            for value in (50.2, 50.4, 50.6, 50.8, 51.0, 51.2):
                server.set("SEP-1.LVL", value)
            await until(lambda: publish.last(lvl.key) == (51.2, GOOD), what="level beyond the deadband")
            assert [v for v, _q in publish.of(lvl.key)] == [50.0, 50.6, 51.2]
            # a status change passes the deadband even when the value did not move
            server.set("SEP-1.LVL", 51.2, ua.StatusCodes.UncertainLastUsableValue)
            await until(lambda: publish.last(lvl.key) == (51.2, UNCERTAIN), what="status change through deadband")
            server.set("SEP-1.LVL", 51.2)
            await until(lambda: publish.last(lvl.key) == (51.2, GOOD), what="good again through deadband")
            # without deadband every change arrives
            for value in (58.1, 58.2, 58.3):
                server.set("SEP-1.TEMP", value)
            await until(lambda: publish.last(temp.key) == (58.3, GOOD), what="temperature changes")
            assert [v for v, _q in publish.of(temp.key)] == [58.0, 58.1, 58.2, 58.3]

            # StatusCode severity -> quality; the source timestamp is the sample's time
            stamp = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
            server.set("SEP-1.PRES", 29.0, ua.StatusCodes.UncertainLastUsableValue, ts=stamp)
            await until(lambda: publish.last(pres.key) == (29.0, UNCERTAIN), what="uncertain")
            sample = [s for b in publish.batches for s in b if s.key == pres.key][-1]
            assert sample.ts == stamp.timestamp()
            server.set("SEP-1.PRES", 29.5, ua.StatusCodes.BadSensorFailure)
            await until(lambda: publish.last(pres.key) == (None, BAD), what="bad sensor")
            server.set("SEP-1.PRES", 30.0)
            await until(lambda: publish.last(pres.key) == (30.0, GOOD), what="good again")
            assert driver.values >= driver.messages

            # writes: the node's own type; a read-only node fails with the server's status
            await driver.write(lcv, 55.5)
            assert server.get("LCV-1.OUT") == 55.5
            await until(lambda: publish.last(lcv.key) == (55.5, GOOD), what="written setpoint notified")
            with pytest.raises(WriteError, match="BadNotWritable|BadUserAccessDenied"):  # asyncua: the latter
                await driver.write(pres, 10.0)
            with pytest.raises(WriteError, match="not a numeric setpoint"):
                await driver.write(mode, 1.0)
            with pytest.raises(WriteError, match="BadNodeIdUnknown"):
                await driver.write(missing, 1.0)
            assert not task.done()  # none of this stopped the subscription
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await driver.close()

    with caplog.at_level(logging.WARNING, logger="scada.opcua"):
        asyncio.run(scenario())
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "SEP-9.PRES: not monitored: BadNodeIdUnknown" in messages
    assert "LIC-1.MODE: str value 'AUTO' is not a number" in messages


@pytest.fixture
def clean_historian(transactional_db):
    """The historian table is unmanaged: transactional tests' flush does not empty it."""

    def wipe():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM scada_historian")

    wipe()
    yield
    wipe()


def test_gateway_records_opcua_values_and_resubscribes_after_a_server_restart(server, clean_historian):
    """The real Gateway and DeviceRunner: values into current values and the PostgreSQL historian; a server
    restart turns the tags Bad (never the last good value), then the runner reconnects, the subscription is
    recreated and new values arrive Good."""
    from apps.wells.models import Field, Site
    from scada.models import Device, Tag
    from scada.runtime.gateway import Gateway

    ids = server.node_ids()
    site = Site.objects.create(field=Field.objects.create(code="OPF", name="OPC field"), code="OP-PAD",
                               name="OPC pad")
    device = Device.objects.create(site=site, name="OPC-GW", protocol="opcua", poll_interval_ms=100,
                                   connection={"endpoint": server.endpoint, "timeout_s": 2.0, "keepalive_s": 1.0,
                                               "watchdog_s": 0.5})
    pres = Tag.objects.create(device=device, name="GW.SEP-1.PRES", data_type="float64", unit="bar",
                              address={"node_id": ids["SEP-1.PRES"]})
    total = Tag.objects.create(device=device, name="GW.FT-OIL.TOTAL", data_type="float64", unit="m3",
                               address={"node_id": ids["FT-OIL.TOTAL"]})
    server.set("SEP-1.PRES", 31.0)
    server.set("FT-OIL.TOTAL", 482_000.0)
    seen = []

    async def scenario():
        gw = Gateway(flush_ms=50, reload_s=0.2, reconnect_max=0.4,
                     hooks=[lambda samples, gateway: seen.extend(samples)])
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        cur = gw.store.get
        try:
            await until(lambda: cur(pres.key) and cur(pres.key)[:2] == (31.0, GOOD), what="first value")
            for step in range(1, 6):  # a totaliser counting up
                server.set("FT-OIL.TOTAL", 482_000.0 + step * 0.25)
            await until(lambda: cur(total.key)[:2] == (482_001.25, GOOD), what="totaliser")
            runner = next(iter(gw.runners.values()))
            assert runner.connects == 1

            await asyncio.to_thread(server.stop)  # the facility's server goes away
            await until(lambda: cur(pres.key)[:2] == (None, BAD), what="Bad after the server stopped")
            assert cur(total.key)[:2] == (None, BAD)
            await asyncio.to_thread(server.start)  # same port, new server: the old subscription is gone
            server.set("SEP-1.PRES", 32.5)
            await until(lambda: cur(pres.key)[:2] == (32.5, GOOD), what="Good after reconnect + resubscribe")
            assert runner.connects >= 2
            server.set("SEP-1.PRES", 33.0)  # the new subscription keeps delivering changes
            await until(lambda: cur(pres.key)[:2] == (33.0, GOOD), what="changes after resubscribe")
        finally:
            stop.set()
            await task
        return gw

    gw = asyncio.run(scenario())
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, quality FROM scada_historian WHERE tag_key = %s ORDER BY ts", [pres.key])
        rows = cursor.fetchall()
        cursor.execute("SELECT value FROM scada_historian WHERE tag_key = %s AND quality = 0 ORDER BY ts",
                       [total.key])
        totals = [r[0] for r in cursor.fetchall()]
    assert (31.0, GOOD) in rows and (None, BAD) in rows and (33.0, GOOD) in rows
    assert rows.index((31.0, GOOD)) < rows.index((None, BAD)) < rows.index((32.5, GOOD))
    assert totals == sorted(totals) and totals[-1] >= 482_001.25  # monotonic, every step recorded
    assert gw.stats.recorded >= len(rows)


def test_setpoint_writes_reach_a_push_device_through_the_gateway(server, clean_historian):
    """A WriteCommand for an OPC-UA tag (a push device: no poll loop) is carried out while the subscription runs:
    DONE with the value on the server; a node the server refuses to write ends FAILED with the server's reason."""
    from apps.wells.models import Field, Site
    from scada.models import Device, Tag, WriteCommand
    from scada.runtime.gateway import Gateway
    from scada.services import request_write

    ids = server.node_ids()
    site = Site.objects.create(field=Field.objects.create(code="OPW", name="OPC writes"), code="OPW-PAD",
                               name="OPC writes pad")
    device = Device.objects.create(site=site, name="OPC-WR", protocol="opcua", poll_interval_ms=100,
                                   connection={"endpoint": server.endpoint, "timeout_s": 2.0})
    valve = Tag.objects.create(device=device, name="WR.LCV-1.OUT", data_type="float64", unit="%", writable=True,
                               eng_low=0, eng_high=100, address={"node_id": ids["LCV-1.OUT"]})
    pressure = Tag.objects.create(device=device, name="WR.SEP-1.PRES", data_type="float64", unit="bar",
                                  writable=True, eng_low=0, eng_high=100,  # misconfigured: read-only at the server
                                  address={"node_id": ids["SEP-1.PRES"]})

    async def scenario():
        gw = Gateway(flush_ms=50, reload_s=0.2, write_poll_s=0.05, hooks=[])
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        try:
            await until(lambda: gw.store.get(valve.key), what="subscription running")
            ok = await gw.db_call(request_write, valve, 62.5)
            refused = await gw.db_call(request_write, pressure, 10.0)

            def finished():
                return WriteCommand.objects.filter(pk__in=[ok.pk, refused.pk], status="PENDING").count() == 0

            await until(lambda: gw.db_call(finished), what="both writes completed")
        finally:
            stop.set()
            await task
        return ok, refused

    ok, refused = asyncio.run(scenario())
    ok.refresh_from_db()
    refused.refresh_from_db()
    assert ok.status == "DONE", ok.reason
    assert server.get("LCV-1.OUT") == 62.5
    assert refused.status == "FAILED"
    assert "BadUserAccessDenied" in refused.reason or "BadNotWritable" in refused.reason


def test_facility_signals_totalisers_faults_and_engineering_units(server):
    """The simulator as a client sees it: AnalogItemType variables with EngineeringUnits/EURange, monotonic
    totalisers, a sensor fault as BadSensorFailure, a stopped value, and a restart on the same port."""
    from asyncua import Client

    facility = server.facility

    def step(dt):
        server._run(facility.update(100.0, dt))

    totals = []
    for _ in range(5):
        step(60.0)
        totals.append(server.get("FT-GAS.TOTAL"))
    assert totals == sorted(totals) and totals[-1] > totals[0]
    gas = server.get("FT-GAS.FLOW")
    assert 0 <= gas <= 500_000

    server._run(facility.inject("stuck", "FT-OIL.FLOW"))
    stuck = server.get("FT-OIL.FLOW")
    step(60.0)
    assert server.get("FT-OIL.FLOW") == stuck
    server._run(facility.inject("sensor-fail"))

    async def client_view():
        async with Client(server.endpoint, timeout=4) as client:
            level = client.get_node(server.node_ids()["SEP-1.LVL"])
            dv = await level.read_data_value(raise_on_bad_status=False)
            props = {(await p.read_browse_name()).Name: await p.read_value() for p in await level.get_properties()}
            kind = await level.read_type_definition()
            return dv.StatusCode, props, kind

    status, props, kind = asyncio.run(client_view())
    assert status.name == "BadSensorFailure"
    assert kind == ua.NodeId(ua.ObjectIds.AnalogItemType)
    assert props["EURange"] == ua.Range(Low=0.0, High=100.0)
    assert props["EngineeringUnits"].DisplayName.Text == "%"
    assert props["EngineeringUnits"].UnitId == 20529  # UNECE "P1" (percent)

    server._run(facility.inject("restart"))  # stop and start on the same port; the fault survives
    status, _props, _kind = asyncio.run(client_view())
    assert status.name == "BadSensorFailure" and facility.restarts == 1
    server._run(facility.inject("ok"))
    status, _props, _kind = asyncio.run(client_view())
    assert status.is_good()
    with pytest.raises(ValueError, match="unknown fault"):
        server._run(facility.inject("meltdown"))


def test_seed_opcua_demo_creates_a_valid_device_and_tags(db):
    import io

    from apps.wells.models import Field, Site
    from scada.models import Device, Tag
    from scada.runtime.config import load_config
    from scada.sim_opcua import DEMO_DEVICE, POINTS, OpcUaFacility, seed_opcua_demo

    out = io.StringIO()
    seed_opcua_demo(out)
    assert "skipped" in out.getvalue()
    Site.objects.create(field=Field.objects.create(code="NORTH", name="North"), code="PAD-A", name="Pad A")
    seed_opcua_demo(out)
    seed_opcua_demo(out)  # idempotent
    device = Device.objects.get(name=DEMO_DEVICE)
    device.full_clean()
    assert device.connection["endpoint"] == "opc.tcp://127.0.0.1:14840/wellsite/"
    tags = {t.name: t for t in Tag.objects.filter(device=device)}
    assert set(tags) == {p.name for p in POINTS}
    for tag in tags.values():
        tag.full_clean()
    assert tags["LCV-1.OUT"].writable and not tags["SEP-1.PRES"].writable
    assert (tags["SEP-1.PRES"].eng_low, tags["SEP-1.PRES"].eng_high, tags["SEP-1.PRES"].unit) == (0, 100, "bar")
    facility = OpcUaFacility.from_endpoint(device.connection["endpoint"])
    assert (facility.host, facility.port, facility.endpoint) == ("127.0.0.1", 14840, device.connection["endpoint"])
    config = load_config()[str(device.pk)]
    assert {t.address["node_id"] for t in config.tags} >= {"ns=2;s=SEP-1.PRES", "ns=2;s=FT-GAS.TOTAL"}
    assert next(t for t in config.tags if t.name == "SEP-1.PRES").deadband == pytest.approx(0.5)  # 0.5 % of 100


def test_signed_and_encrypted_session_with_user_name_from_the_environment(tmp_path, monkeypatch):
    """Basic256Sha256 SignAndEncrypt with the client certificate of the device settings, a user name token whose
    password comes from the environment; a wrong password is refused at connect."""
    import socket

    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from scada.protocols import validate_connection
    from scada.sim_opcua import APPLICATION_URI

    async def certificates():
        host = socket.gethostname()
        await setup_self_signed_certificate(tmp_path / "server.pem", tmp_path / "server.der", APPLICATION_URI, host,
                                            [ExtendedKeyUsageOID.SERVER_AUTH], {"commonName": "facility"})
        await setup_self_signed_certificate(tmp_path / "client.pem", tmp_path / "client.der",
                                            "urn:wellsite-edge:gateway", host, [ExtendedKeyUsageOID.CLIENT_AUTH],
                                            {"commonName": "gateway"})

    asyncio.run(certificates())
    secure = OpcUaServerThread(certificate=str(tmp_path / "server.der"), private_key=str(tmp_path / "server.pem"),
                               users={"scada": "s3cret-field"}).start()
    try:
        settings = validate_connection("opcua", {
            "endpoint": secure.endpoint, "security_mode": "SignAndEncrypt", "security_policy": "Basic256Sha256",
            "certificate_path": str(tmp_path / "client.der"), "private_key_path": str(tmp_path / "client.pem"),
            "username": "scada", "password_env": "OPCUA_TEST_PASSWORD", "keepalive_s": 1.0})
        pres = _tag(1, "SEP-1.PRES", secure.node_ids()["SEP-1.PRES"])
        config = DeviceConfig(id="sec", name="OPC-SEC", protocol="opcua", poll_interval_s=0.05,
                              stale_after_intervals=3, settings=settings, tags=(pres,))
        secure.set("SEP-1.PRES", 27.5)

        async def scenario():
            publish = Recorder()
            driver = OpcUaDriver(config, publish)
            await driver.connect()
            try:
                await until(lambda: publish.last(pres.key), what="value over the encrypted channel")
                policy = driver.client.security_policy.URI
            finally:
                await driver.close()
            return publish.last(pres.key), policy

        monkeypatch.setenv("OPCUA_TEST_PASSWORD", "s3cret-field")
        value, policy = asyncio.run(scenario())
        assert value == (27.5, GOOD) and policy.endswith("#Basic256Sha256")
        monkeypatch.setenv("OPCUA_TEST_PASSWORD", "wrong")
        with pytest.raises(Exception, match="Bad"):
            asyncio.run(scenario())
    finally:
        secure.close()
