"""Tag configuration templates: model validation, version bumps, apply (create, idempotent, version update, foreign
tags left alone, errors naming the item), alarms from limits, the API per role and scope, sync registration and a
hub -> edge pull."""

from __future__ import annotations

import json
import subprocess
import uuid
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.testing import ApiContract
from apps.sync import registry
from scada import services
from scada.alarms.models import Alarm, AlarmDefinition
from scada.demo_templates import ESP_WELL_TEMPLATE, esp_well_items, seed_tag_templates
from scada.models import Tag, TagTemplate, TagTemplateItem
from tests.scada.helpers import make_device, make_tag

ITEMS = [
    {"suffix": "THP", "description": "Tubing head pressure", "address": {"register_type": "input", "address": 0},
     "data_type": "uint16", "scaling": "ma_4_20", "eng_low": 0, "eng_high": 100, "unit": "bar",
     "alarms": [{"kind": "HH", "setpoint": 85}, {"kind": "H", "setpoint": 75, "priority": "high"}]},
    {"suffix": "FLT", "description": "Flowline temperature", "address": {"register_type": "holding", "address": 0},
     "data_type": "float32", "eng_low": -20, "eng_high": 150, "unit": "degC"},
    {"suffix": "RUN", "description": "ESP running", "address": {"register_type": "coil", "address": 0},
     "data_type": "bool", "writable": True},
]


def make_template(name="ESP test", protocol="modbus_tcp", items=ITEMS) -> TagTemplate:
    template = TagTemplate.objects.create(name=name, protocol=protocol)
    with template.editing(bump=False):
        for data in items:
            item = TagTemplateItem(template=template, **data)
            item.full_clean()
            item.save()
    return template


def make_well(site, name="W01"):
    from apps.wells.models import Well

    return Well.objects.create(site=site, name=name, uwi=f"UWI-{name}-{uuid.uuid4().hex[:6]}")


# -- model validation -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("protocol", "data", "field", "text"), [
    ("modbus_tcp", {"address": {"register_type": "nonsense", "address": 1}}, "address.register_type", "valid choice"),
    ("modbus_tcp", {"address": {"register_type": "coil", "address": 1}}, "address.register_type", "bool"),
    ("modbus_tcp", {"address": {"register_type": "input", "address": 1}, "writable": True}, "writable", "holding"),
    ("modbus_tcp", {"address": {"register_type": "holding", "address": 1}, "scaling": "linear"}, "raw_low",
     "Required"),
    ("opcua", {"address": {"node_id": "ns=2;s={prefx}.THP"}}, "address", "Unknown placeholder {prefx}"),
    ("opcua", {"address": {"node_id": "THP"}}, "address.node_id", "NodeId"),
    ("mqtt", {"address": {"key": "{prefix}", "topic": "x"}}, "address.topic", "Unknown setting"),
    ("modbus_tcp", {"address": {"register_type": "holding", "address": 1}, "eng_low": 0, "eng_high": 10,
                    "alarms": [{"kind": "HH", "setpoint": 20}]}, "alarms.0.setpoint", "range"),
    ("modbus_tcp", {"address": {"register_type": "holding", "address": 1},
                    "alarms": [{"kind": "H", "setpoint": 9}, {"kind": "HH", "setpoint": 5}]}, "alarms", "LL < L"),
    ("modbus_tcp", {"address": {"register_type": "holding", "address": 1},
                    "alarms": [{"kind": "ROC", "setpoint": 9}]}, "alarms.0.kind", "valid choice"),
])
def test_item_validation_names_the_field(db, protocol, data, field, text):
    template = TagTemplate.objects.create(name="V", protocol=protocol)
    item = TagTemplateItem(template=template, suffix="THP", **data)
    with pytest.raises(ValidationError) as exc:
        item.full_clean()
    messages = exc.value.message_dict
    assert field in messages, messages
    assert any(text in m for m in messages[field]), messages


def test_valid_patterns_per_protocol(db):
    for protocol, address in (("opcua", {"node_id": "ns=2;s={prefix}.THP"}), ("mqtt", {"key": "{well}/thp"}),
                              ("csv", {"column": "{prefix} THP"})):
        template = TagTemplate.objects.create(name=f"T-{protocol}", protocol=protocol)
        TagTemplateItem(template=template, suffix="THP", address=address).full_clean()


def test_version_goes_up_once_per_edit(db):
    template = make_template()
    assert template.version == 1
    item = template.items.get(suffix="FLT")
    item.unit = "degF"
    item.save()
    template.refresh_from_db()
    assert template.version == 2
    item.save()  # unchanged: no new version
    template.refresh_from_db()
    assert template.version == 2
    with template.editing():
        template.description = "changed"
        template.save()
        TagTemplateItem.objects.get(template=template, suffix="RUN").delete()
    template.refresh_from_db()
    assert template.version == 3


# -- apply ----------------------------------------------------------------------------------------------------------
def test_apply_creates_tags_and_alarms(world):
    template = make_template()
    device = make_device(world.site_a)
    well = make_well(world.site_a)
    result = services.apply_template(template, device, well=well, prefix="W01", offset=20)
    assert sorted(t.name for t in result.created) == ["W01.FLT", "W01.RUN", "W01.THP"]
    thp = Tag.objects.get(name="W01.THP")
    assert thp.address == {"register_type": "input", "address": 20}
    assert (thp.scaling, thp.raw_low, thp.raw_high, thp.eng_high, thp.unit) == ("ma_4_20", 4000, 20000, 100, "bar")
    assert (thp.device, thp.well, thp.template, thp.template_version) == (device, well, template, 1)
    assert Tag.objects.get(name="W01.RUN").address == {"register_type": "coil", "address": 20}
    defs = {d.kind: d for d in AlarmDefinition.objects.filter(tag=thp)}
    assert set(defs) == {"HH", "H"}
    assert (defs["HH"].setpoint, defs["HH"].priority, defs["H"].priority) == (85, "high", "high")
    assert defs["HH"].message == "Tubing head pressure high-high"
    assert Alarm.objects.filter(definition__tag=thp).count() == 2  # the state rows the engine evaluates


def test_apply_twice_changes_nothing(world):
    from apps.core.models import AuditEvent

    template = make_template()
    device = make_device(world.site_a)
    services.apply_template(template, device, prefix="W02", offset=40)
    before = (list(Tag.objects.values_list("name", "updated_at")), AuditEvent.objects.count())
    again = services.apply_template(template, device, prefix="W02", offset=40)
    assert (again.created, again.updated, again.alarms_written) == ([], [], 0)
    assert len(again.unchanged) == 3
    assert (list(Tag.objects.values_list("name", "updated_at")), AuditEvent.objects.count()) == before


def test_newer_version_updates_only_its_own_tags(world):
    template = make_template()
    device = make_device(world.site_a)
    services.apply_template(template, device, prefix="W03")
    hand_made = make_tag(device, name="W03.CHP", register_type="input", address=1, data_type="uint16")
    other = make_tag(device, name="W04.THP", register_type="input", address=5, data_type="uint16")
    item = template.items.get(suffix="THP")
    item.eng_high = 200
    item.alarms = [{"kind": "HH", "setpoint": 150}]
    item.save()
    template.refresh_from_db()
    result = services.apply_template(template, device, prefix="W03")
    assert [t.name for t in result.updated] == ["W03.FLT", "W03.RUN", "W03.THP"]  # all carry the new version
    thp = Tag.objects.get(name="W03.THP")
    assert (thp.eng_high, thp.template_version) == (200, 2)
    assert AlarmDefinition.objects.get(tag=thp, kind="HH").setpoint == 150
    assert AlarmDefinition.objects.get(tag=thp, kind="H").setpoint == 75  # a limit the new version dropped stays
    for tag in (hand_made, other):
        fresh = Tag.objects.get(pk=tag.pk)
        assert (fresh.updated_at, fresh.template_id) == (tag.updated_at, None)


def test_an_existing_tag_it_did_not_create_is_refused_and_nothing_is_written(world):
    template = make_template()
    device = make_device(world.site_a)
    make_tag(device, name="W05.FLT", register_type="holding", address=30)
    count = Tag.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.apply_template(template, device, prefix="W05")
    assert "items.FLT.suffix" in exc.value.message_dict
    assert "not created by this template" in exc.value.message_dict["items.FLT.suffix"][0]
    assert Tag.objects.count() == count


def test_bad_address_names_the_item(world):
    template = make_template()
    device = make_device(world.site_a, address_base=1)  # 1-based: offset 0 gives address 0, below the minimum
    with pytest.raises(ValidationError) as exc:
        services.apply_template(template, device, prefix="W06", offset=0)
    assert set(exc.value.message_dict) == {"items.THP.address", "items.FLT.address", "items.RUN.address"}
    assert "1-based" in exc.value.message_dict["items.THP.address"][0]
    assert not Tag.objects.filter(name__startswith="W06.").exists()
    opc = TagTemplate.objects.create(name="OPC", protocol="opcua")
    TagTemplateItem.objects.create(template=opc, suffix="THP", address={"node_id": "ns=2;s={well}.THP"})
    opc_device = make_device(world.site_a, protocol="opcua", endpoint="opc.tcp://127.0.0.1:4840")
    with pytest.raises(ValidationError) as exc:
        services.apply_template(opc, opc_device, prefix="W07")
    assert "{well} needs a value" in exc.value.message_dict["items.THP.address"][0]
    result = services.apply_template(opc, opc_device, well=make_well(world.site_a, "W07"), prefix="W07")
    assert result.created[0].address == {"node_id": "ns=2;s=W07.THP"}


def test_apply_checks_device_protocol_well_site_and_prefix(world):
    template = make_template()
    device = make_device(world.site_a)
    opc_device = make_device(world.site_a, protocol="opcua", endpoint="opc.tcp://127.0.0.1:4840")
    with pytest.raises(ValidationError) as exc:
        services.apply_template(template, opc_device, well=make_well(world.site_b, "WB1"), prefix="bad prefix")
    assert set(exc.value.message_dict) == {"device", "well", "prefix"}
    rtu = make_device(world.site_a, protocol="modbus_rtu", serial_port="/dev/ttyUSB0")
    assert len(services.apply_template(template, rtu, prefix="W08").created) == 3  # Modbus RTU shares the format
    assert services.apply_template(template, device, prefix="W09").created


def test_apply_with_a_user_goes_through_the_choke_point(world, personas):
    template = make_template()
    inside, outside = make_device(world.site_a), make_device(world.site_b)
    with pytest.raises(PermissionDenied):
        services.apply_template(template, inside, prefix="W10", user=personas["operator"])
    with pytest.raises(PermissionDenied):
        services.apply_template(template, outside, prefix="W10", user=personas["supervisor"])
    result = services.apply_template(template, inside, prefix="W10", user=personas["supervisor"])
    assert result.created[0].created_by == personas["supervisor"]


def test_demo_template_matches_the_demo_tags(db):
    from scada.demo import _tags_for

    seed_tag_templates(StringIO())
    seed_tag_templates(StringIO())  # idempotent: same version
    template = TagTemplate.objects.get(name=ESP_WELL_TEMPLATE)
    assert template.version == 1
    suffixes = [row[0] for row in _tags_for("W01", 0)]
    assert sorted(template.items.values_list("suffix", flat=True)) == sorted(suffixes)
    assert len(esp_well_items()) == 9


def test_demo_template_applied_gives_the_demo_addresses(world):
    from scada.demo import _tags_for

    seed_tag_templates(StringIO())
    template = TagTemplate.objects.get(name=ESP_WELL_TEMPLATE)
    device = make_device(world.site_a, word_order="CDAB")
    services.apply_template(template, device, well=make_well(world.site_a, "W02"), prefix="W02", offset=20)
    for suffix, _d, rtype, address, dtype, scaling, (low, high), unit, writable in _tags_for("W02", 1):
        tag = Tag.objects.get(name=f"W02.{suffix}")
        assert (tag.address, tag.data_type, tag.scaling, tag.eng_low, tag.eng_high, tag.unit, tag.writable) == (
            {"register_type": rtype, "address": address}, dtype, scaling, low, high, unit, writable), suffix
    assert AlarmDefinition.objects.get(tag__name="W02.PIP", kind="LL").setpoint == 20


# -- API -------------------------------------------------------------------------------------------------------------
class TestTagTemplateApi(ApiContract):
    endpoint = "/api/v1/scada/tag-templates/"
    model = TagTemplate
    scoped = False
    invalid_field = "items.0.address.register_type"
    update_field = "description"

    def make(self, world, in_scope=True):
        return make_template(name=f"T-{uuid.uuid4().hex[:8]}")

    def create_payload(self, world):
        return {"name": "Gas lift well (Modbus)", "protocol": "modbus_tcp", "items": ITEMS[:2]}

    def update_payload(self, world, obj):
        return {"description": "Wellhead and flowline"}

    def invalid_payload(self, world):
        return {"name": "Bad", "protocol": "modbus_tcp",
                "items": [{"suffix": "THP", "address": {"register_type": "nonsense", "address": 0}}]}


def test_nested_items_in_one_request_bump_the_version_once(world, api_for):
    client = api_for("admin")
    r = client.post("/api/v1/scada/tag-templates/", {"name": "GL", "protocol": "modbus_tcp", "items": ITEMS},
                    format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["version"], len(r.json()["items"])) == (1, 3)
    url = f"/api/v1/scada/tag-templates/{r.json()['id']}/"
    items = [{**ITEMS[0], "eng_high": 120}, ITEMS[1], {"suffix": "CHP", "address": {"register_type": "input",
                                                                                       "address": 1},
                                                       "data_type": "uint16"}]
    r = client.patch(url, {"description": "v2", "items": items}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["version"] == 2
    assert sorted(i["suffix"] for i in r.json()["items"]) == ["CHP", "FLT", "THP"]
    r = client.patch(url, {"items": [ITEMS[0], ITEMS[0]]}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "items.1.suffix", r.json()
    r = client.patch(url, {"protocol": "opcua"}, format="json")  # the stored items are Modbus addresses
    assert r.status_code == 400, r.json()
    assert "items.THP.address.node_id" in {d["field"] for d in r.json()["details"]}


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 201), ("supervisor", 201), ("operator", 403), ("viewer", 403), ("scada", 403)])
def test_apply_api_per_role(world, api_for, role, status):
    template = make_template()
    device = make_device(world.site_a)
    well = make_well(world.site_a)
    url = f"/api/v1/scada/tag-templates/{template.pk}/apply/"
    body = {"device": str(device.pk), "well": str(well.pk), "prefix": "W01", "offset": 20}
    r = api_for(role).post(url, body, format="json")
    assert r.status_code == status, r.json()
    if status == 201:
        assert r.json()["created"] == ["W01.FLT", "W01.RUN", "W01.THP"]
        assert r.json()["tags"][2]["address"] == {"register_type": "input", "address": 20}
        assert r.json()["tags"][2]["template_version"] == 1
        again = api_for(role).post(url, body, format="json")
        assert again.status_code == 200 and again.json()["unchanged"] == r.json()["created"]


def test_apply_api_scope_and_errors(world, api_for):
    template = make_template()
    client = api_for("supervisor")
    url = f"/api/v1/scada/tag-templates/{template.pk}/apply/"
    outside = make_device(world.site_b)
    r = client.post(url, {"device": str(outside.pk), "prefix": "W01"}, format="json")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    inside = make_device(world.site_a)
    r = client.post(url, {"device": str(inside.pk), "well": str(make_well(world.site_b).pk), "prefix": "W01"},
                    format="json")
    assert r.status_code == 404
    make_tag(inside, name="W01.THP", register_type="input", address=0, data_type="uint16")
    r = client.post(url, {"device": str(inside.pk), "prefix": "W01"}, format="json")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "items.THP.suffix", r.json()
    assert not Tag.objects.filter(name="W01.FLT").exists()


# -- sync ------------------------------------------------------------------------------------------------------------
def test_templates_sync_down():
    assert registry.spec_for("scada.tagtemplate").direction == registry.DOWN
    assert registry.spec_for("scada.tagtemplateitem").direction == registry.DOWN
    assert registry.spec_for("scada.tag") is None  # SCADA configuration stays home: its template link with it


@pytest.fixture(scope="module")
def template_hub(django_db_setup, django_db_blocker):
    """(edge database URL, Hub): a hub process on its own copy of the test database, like tests/sync/conftest.py's
    fixtures but under another database name (importing those fixtures here would make a second session-wide hub on
    the same database when both folders run in one session)."""
    import tempfile
    from pathlib import Path

    import psycopg
    from django.db import connection, connections

    from tests.sync.conftest import _url
    from tests.sync.procs import Hub

    if connection.vendor != "postgresql":
        pytest.skip("the real-process sync test needs PostgreSQL")
    cfg = connection.settings_dict
    edge_name, hub_name = cfg["NAME"], f"{cfg['NAME']}_tplhub"
    admin = _url(cfg, "postgres").replace("postgres://", "postgresql://", 1)
    with django_db_blocker.unblock():
        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{hub_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{hub_name}" TEMPLATE "{edge_name}"')
    server = Hub(_url(cfg, hub_name), log_dir=Path(tempfile.mkdtemp(prefix="wellsite-tpl-"))).start()
    yield _url(cfg, edge_name), server, _url(cfg, hub_name)
    server.stop()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{hub_name}" WITH (FORCE)')


HUB_AUTHORING = """
import json
from scada.models import TagTemplate, TagTemplateItem
t = TagTemplate.objects.create(name={name!r}, protocol="modbus_tcp", description="from the hub")
with t.editing(bump=False):
    for data in json.loads({items!r}):
        TagTemplateItem.objects.create(template=t, **data)
item = t.items.get(suffix="THP")
item.eng_high = 120
item.save()
t.refresh_from_db()
print(json.dumps({{"id": str(t.pk), "version": t.version}}))
"""


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_template_authored_at_the_hub_is_pulled_and_applied_at_the_edge(template_hub, settings):
    from apps.sync.models import OutboxEvent
    from apps.wells.models import Field, Site
    from tests.sync.procs import PYTHON, ROOT, base_env, forwarder_env, run_sync_once

    edge_url, hub, hub_url = template_hub
    edge_id = f"edge-tpl-{uuid.uuid4().hex[:8]}"
    settings.EDGE_ID = edge_id
    token = hub.issue_token(edge_id)
    name = f"ESP hub {uuid.uuid4().hex[:6]}"
    env = base_env(EDGE_ROLE="hub", EDGE_ID="hub", DATABASE_URL=hub_url)
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", HUB_AUTHORING.format(name=name, items=json.dumps(ITEMS))],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    made = json.loads(out.stdout.strip().splitlines()[-1])
    assert made["version"] == 2
    # The hub holds back events younger than SYNC_PULL_SETTLE_SECONDS; age them instead of waiting.
    hub.query("UPDATE sync_outboxevent SET created_at = created_at - interval '1 minute' "
              "WHERE aggregate_type LIKE 'scada.tagtemplate%%' RETURNING sequence")
    result = run_sync_once(forwarder_env(edge_url, hub.url, token, edge_id))
    assert result.returncode == 0, result.stderr
    template = TagTemplate.objects.get(pk=made["id"])
    assert (template.name, template.version, template.items.count()) == (name, 2, 3)
    assert template.items.get(suffix="THP").eng_high == 120
    assert not OutboxEvent.objects.filter(aggregate_id=made["id"]).exists()  # applied, not echoed back up
    site = Site.objects.create(field=Field.objects.create(code=f"F{uuid.uuid4().hex[:5]}", name="F"),
                               code=f"S{uuid.uuid4().hex[:5]}", name="S")
    applied = services.apply_template(template, make_device(site), prefix=f"E{uuid.uuid4().hex[:5]}")
    assert {t.template_version for t in applied.created} == {2}


def test_admin_edit_of_template_and_items_bumps_the_version_once(world, personas, client):
    from apps.core.testing import PASSWORD

    admin = personas["admin"]
    admin.set_password(PASSWORD)
    admin.save()
    assert client.post("/admin/login/", {"username": "admin-user", "password": PASSWORD}).status_code == 302
    template = make_template(items=ITEMS[:1])
    assert client.get("/admin/scada/tagtemplate/").status_code == 200
    page = client.get(f"/admin/scada/tagtemplate/{template.pk}/change/")
    assert page.status_code == 200
    item = template.items.get()
    prefix = "items"
    data = {"name": template.name, "description": "edited in admin", "protocol": "modbus_tcp",
            f"{prefix}-TOTAL_FORMS": "2", f"{prefix}-INITIAL_FORMS": "1", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}
    row = {"id": str(item.pk), "template": str(template.pk), "suffix": "THP", "description": "THP",
           "address": json.dumps(item.address), "data_type": "uint16", "scaling": "ma_4_20", "eng_low": "0",
           "eng_high": "150", "unit": "bar", "deadband": "0", "deadband_mode": "absolute", "max_interval_s": "900",
           "alarms": json.dumps(item.alarms)}
    new = {"suffix": "CHP", "description": "Casing head pressure", "template": str(template.pk),
           "address": json.dumps({"register_type": "input", "address": 1}), "data_type": "uint16",
           "scaling": "none", "eng_low": "", "eng_high": "", "unit": "bar", "deadband": "0",
           "deadband_mode": "absolute", "max_interval_s": "900", "alarms": "[]"}
    data.update({f"{prefix}-0-{k}": v for k, v in row.items()})
    data.update({f"{prefix}-1-{k}": v for k, v in new.items()})
    response = client.post(f"/admin/scada/tagtemplate/{template.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    template.refresh_from_db()
    assert (template.version, template.description, template.items.count()) == (2, "edited in admin", 2)
    assert template.items.get(suffix="THP").eng_high == 150


def test_apply_api_audits_each_tag_and_alarm_definition_as_the_user(world, api_for, personas):
    from apps.core.models import AuditEvent

    template = make_template()
    device = make_device(world.site_a)
    url = f"/api/v1/scada/tag-templates/{template.pk}/apply/"
    r = api_for("supervisor").post(url, {"device": str(device.pk), "prefix": "W07"}, format="json")
    assert r.status_code == 201, r.json()
    tag_ids = {t["id"] for t in r.json()["tags"]}
    created = AuditEvent.objects.filter(action="create", object_type="scada.tag", object_id__in=tag_ids)
    assert {e.object_id for e in created} == tag_ids
    assert {(e.actor_name, e.channel) for e in created} == {(personas["supervisor"].username, "api")}
    definitions = AlarmDefinition.objects.filter(tag_id__in=tag_ids)
    assert definitions.exists()
    assert AuditEvent.objects.filter(action="create", object_id__in=[str(d.pk) for d in definitions]).count() \
        == definitions.count()
