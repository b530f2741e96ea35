"""Configuration API (devices, tags, writes) against the generic contract, protocol validation, values."""

import pytest

from apps.core.testing import ApiContract
from scada.models import CurrentValue, Device, Tag, WriteCommand
from tests.scada.helpers import make_device, make_tag


class TestDeviceApi(ApiContract):
    endpoint = "/api/v1/scada/devices/"
    model = Device
    invalid_field = "connection.port"

    def make(self, world, in_scope=True):
        return make_device(world.site_a if in_scope else world.site_b)

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "name": "RTU-NEW", "protocol": "modbus_tcp",
                "connection": {"host": "10.0.0.5", "unit_id": 3, "word_order": "CDAB"}, "poll_interval_ms": 500}

    def update_payload(self, world, obj):
        return {"description": "changed"}

    def invalid_payload(self, world):
        return {"site": str(world.site_a.pk), "name": "RTU-BAD", "protocol": "modbus_tcp",
                "connection": {"host": "10.0.0.5", "port": 70000}}


class TestTagApi(ApiContract):
    endpoint = "/api/v1/scada/tags/"
    model = Tag
    invalid_field = "address.register_type"

    def make(self, world, in_scope=True):
        return make_tag(make_device(world.site_a if in_scope else world.site_b))

    def create_payload(self, world):
        device = make_device(world.site_a)
        return {"device": str(device.pk), "name": "W01.THP", "address": {"register_type": "holding", "address": 10},
                "data_type": "float32", "unit": "bar", "eng_low": 0, "eng_high": 350}

    def update_payload(self, world, obj):
        return {"description": "Tubing head pressure"}

    def invalid_payload(self, world):
        device = make_device(world.site_a)
        return {"device": str(device.pk), "name": "W01.BAD", "address": {"register_type": "nonsense", "address": 1}}


class TestWriteCommandApi(ApiContract):
    endpoint = "/api/v1/scada/writes/"
    model = WriteCommand
    invalid_field = "value"
    update_field = "value"

    def _tag(self, site):
        return make_tag(make_device(site), writable=True, eng_low=0, eng_high=100)

    def make(self, world, in_scope=True):
        return WriteCommand.objects.create(tag=self._tag(world.site_a if in_scope else world.site_b), value=10)

    def create_payload(self, world):
        return {"tag": str(self._tag(world.site_a).pk), "value": 42.5}

    def update_payload(self, world, obj):
        return {"value": obj.value + 1}

    def invalid_payload(self, world):
        return {"tag": str(self._tag(world.site_a).pk), "value": 150}


@pytest.mark.parametrize(("protocol", "connection", "field", "text"), [
    ("modbus_tcp", {}, "connection.host", "required"),
    ("modbus_tcp", {"host": "x", "word_order": "ACBD"}, "connection.word_order", "valid choice"),
    ("modbus_tcp", {"host": "x", "address_base": 2}, "connection.address_base", "valid choice"),
    ("modbus_tcp", {"host": "x", "unit_id": 300}, "connection.unit_id", "247"),
    ("modbus_tcp", {"host": "x", "timeout_s": 0}, "connection.timeout_s", "0.05"),
    ("modbus_tcp", {"host": "x", "max_block_registers": 126}, "connection.max_block_registers", "125"),
    ("modbus_tcp", {"host": "x", "unitid": 1}, "connection.unitid", "Unknown setting"),
    ("modbus_rtu", {"serial_port": "ttyS0"}, "connection.serial_port", "absolute path"),
    ("modbus_rtu", {"serial_port": "/dev/ttyS0", "unit_id": 0}, "connection.unit_id", "broadcast"),
    ("opcua", {"endpoint": "http://plc:4840"}, "connection.endpoint", "opc.tcp"),
    ("opcua", {"endpoint": "opc.tcp://plc:4840", "security_mode": "Sign"}, "connection.security_policy", "policy"),
    ("mqtt", {"topic_prefix": "site/#"}, "connection.topic_prefix", "wildcards"),
    ("mqtt", {"topic_prefix": "a", "broker_url": "tcp://x"}, "connection.broker_url", "mqtt://"),
    ("csv", {"directory": "relative"}, "connection.directory", "absolute"),
])
def test_each_protocol_setting_is_validated(world, api_for, protocol, connection, field, text):
    response = api_for("admin").post("/api/v1/scada/devices/", {
        "site": str(world.site_a.pk), "name": "DEV-X", "protocol": protocol, "connection": connection}, format="json")
    assert response.status_code == 400, response.json()
    details = {d["field"]: d["error"] for d in response.json()["details"]}
    assert field in details, details
    assert text in details[field]


def test_valid_settings_are_normalised_with_defaults(world, api_for):
    response = api_for("admin").post("/api/v1/scada/devices/", {
        "site": str(world.site_a.pk), "name": "OPC-1", "protocol": "opcua",
        "connection": {"endpoint": "opc.tcp://plc.local:4840/freeopcua/server/"}}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["connection"]["security_mode"] == "None"
    assert response.json()["connection"]["timeout_s"] == 4.0


def test_tag_address_rules(world, api_for):
    device = make_device(world.site_a, address_base=1)
    client = api_for("admin")
    base = {"device": str(device.pk), "name": "W9.X", "data_type": "float32"}
    r = client.post("/api/v1/scada/tags/", {**base, "address": {"register_type": "holding", "address": 0}},
                    format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "address.address", r.json()
    r = client.post("/api/v1/scada/tags/", {**base, "address": {"register_type": "coil", "address": 5}}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "address.register_type", r.json()
    r = client.post("/api/v1/scada/tags/", {**base, "address": {"register_type": "input", "address": 5},
                                            "writable": True}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "writable", r.json()
    r = client.post("/api/v1/scada/tags/", {**base, "address": {"register_type": "input", "address": 5},
                                            "scaling": "ma_4_20", "eng_low": 0}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "eng_high", r.json()
    r = client.post("/api/v1/scada/tags/", {**base, "address": {"register_type": "input", "address": 5},
                                            "scaling": "ma_4_20", "eng_low": 0, "eng_high": 200}, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["raw_low"], r.json()["raw_high"]) == (4000.0, 20000.0)


def test_tag_keys_are_compact_integers(world):
    device = make_device(world.site_a)
    keys = [make_tag(device, address=i * 2).key for i in range(3)]
    assert keys == list(range(keys[0], keys[0] + 3))


def test_write_to_read_only_tag_is_refused(world, api_for):
    tag = make_tag(make_device(world.site_a), eng_low=0, eng_high=10)
    r = api_for("operator").post("/api/v1/scada/writes/", {"tag": str(tag.pk), "value": 1}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "tag"


def test_completed_write_cannot_be_changed(world, api_for):
    from scada.services import complete_write

    tag = make_tag(make_device(world.site_a), writable=True, eng_low=0, eng_high=10)
    cmd = WriteCommand.objects.create(tag=tag, value=1)
    complete_write(cmd, ok=False, reason="timeout")
    cmd.refresh_from_db()
    assert (cmd.status, cmd.reason) == ("FAILED", "timeout")
    r = api_for("operator").patch(f"/api/v1/scada/writes/{cmd.pk}/", {"value": 2}, format="json")
    assert r.status_code == 409


def test_values_lists_current_values_in_scope(world, api_for):
    from django.utils import timezone

    inside = make_tag(make_device(world.site_a), unit="bar")
    outside = make_tag(make_device(world.site_b))
    never = make_tag(make_device(world.site_a))
    now = timezone.now()
    CurrentValue.objects.create(tag=inside, tag_key=inside.key, value=12.5, quality=0, ts=now)
    CurrentValue.objects.create(tag=outside, tag_key=outside.key, value=1, quality=0, ts=now)
    rows = {r["name"]: r for r in api_for("viewer").get("/api/v1/scada/values/").json()["results"]}
    assert set(rows) == {inside.name, never.name}
    assert rows[inside.name]["value"] == 12.5 and rows[inside.name]["quality"] == "Good"
    assert rows[never.name]["quality"] == "Bad" and rows[never.name]["value"] is None
    assert len(api_for("admin").get("/api/v1/scada/values/").json()["results"]) == 3


@pytest.mark.django_db
def test_system_check_reports_bad_device_settings(world):
    from scada.checks import check_scada_configuration

    device = make_device(world.site_a)
    assert check_scada_configuration(databases=["default"]) == []
    Device.objects.filter(pk=device.pk).update(connection={"host": "x", "port": "not-a-port"})
    errors = check_scada_configuration(databases=["default"])
    assert [e.id for e in errors] == ["scada.E001"]
    assert "port: A valid integer is required." in errors[0].msg


def test_tag_links_must_be_on_the_device_site(world, api_for):
    from apps.wells.models import Well

    device = make_device(world.site_a)
    far_well = Well.objects.create(site=world.site_b, name="WFAR", uwi="42-000-00001")
    near_well = Well.objects.create(site=world.site_a, name="WNEAR", uwi="42-000-00002")
    base = {"device": str(device.pk), "name": "LINK.X", "address": {"register_type": "holding", "address": 0}}
    r = api_for("admin").post("/api/v1/scada/tags/", {**base, "well": str(far_well.pk)}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "well", r.json()
    r = api_for("admin").post("/api/v1/scada/tags/", {**base, "well": str(near_well.pk)}, format="json")
    assert r.status_code == 201, r.json()


@pytest.mark.django_db(transaction=True)
def test_tag_keys_do_not_collide_when_tags_are_created_concurrently():
    """Two engineers (or an import and the API) creating tags at the same moment each get distinct keys."""
    import threading

    from django.db import connection, connections

    from apps.wells.models import Field, Site
    from tests.scada.helpers import make_device, make_tag

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database")
    site = Site.objects.create(field=Field.objects.create(code="KF", name="Keys"), code="K-PAD", name="Keys pad")
    devices = [make_device(site), make_device(site)]
    barrier, errors = threading.Barrier(2), []

    def create(device):
        try:
            barrier.wait()
            for i in range(15):
                make_tag(device, name=f"{device.name}.T{i}", address=i * 2)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(d,)) for d in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    keys = list(Tag.objects.values_list("key", flat=True))
    assert len(keys) == 30 and len(set(keys)) == 30
