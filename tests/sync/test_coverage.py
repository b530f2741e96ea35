"""What syncs (issue 8's list), which way, and that every synced foreign key can be satisfied at the receiver.

The last two tests use two real databases: the test database is the edge, a hub process (daphne, EDGE_ROLE=hub) runs
on its own database, and ``manage.py run_sync --once`` forwards and pulls between them.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction

from apps.sync import registry
from apps.sync.choices import EventState
from apps.sync.models import OutboxEvent
from tests.sync.procs import PYTHON, ROOT, base_env, forwarder_env, run_sync_once

UP, DOWN, BOTH = registry.UP, registry.DOWN, registry.BOTH

# The records issue 8 lists, the models that carry them, and the direction each must sync in.
EXPECTED = {
    # edge -> hub: operational records of the site
    "wells.well": UP, "wells.site": UP, "wells.wellbore": UP, "wells.wellstatuschange": UP,
    "wells.completion": UP, "wells.completionrestriction": UP, "wells.pvtsample": UP, "wells.trajectory": UP,
    "wells.surveystation": UP,
    "drilling.drillingreport": UP, "drilling.timelogrow": UP, "drilling.mudrecord": UP, "drilling.mudusage": UP,
    "drilling.bitrecord": UP, "drilling.bharun": UP, "drilling.bhacomponent": UP, "drilling.rig": UP,
    "production.dailywellproduction": UP, "production.welltest": UP, "production.meter": UP,
    "production.meterreading": UP, "production.allocationrun": UP, "production.allocationline": UP,
    "intervention.toolstring": UP, "intervention.toolstringitem": UP, "intervention.interventionjob": UP,
    "intervention.coiledtubingreel": UP,
    "inventory.stockmove": UP, "inventory.warehouse": UP, "inventory.location": UP, "inventory.reservation": UP,
    "finance.costentry": UP, "finance.afe": UP, "finance.afeline": UP, "finance.afepartner": UP,
    "finance.afesupplement": UP, "finance.costcenter": UP, "finance.journalentry": UP,
    "maintenance.workorder": UP, "maintenance.workorderpart": UP, "maintenance.equipment": UP,
    "maintenance.preventiveplan": UP,
    "alarms.alarmjournal": UP, "core.auditevent": UP,
    # hub -> edges: master data (both: the hub authors it, an isolated edge may add an entry that then goes up)
    "inventory.item": BOTH, "intervention.toolcomponent": BOTH, "finance.account": DOWN,
    "wells.field": BOTH, "wells.reservoir": BOTH,
    "accounts.user": DOWN,  # role and scopes travel as payload extras (natural keys), see test_users_sync.py
    "scada.tagtemplate": DOWN, "scada.tagtemplateitem": DOWN,
}

# Rows the receiving side already has with the same primary key, so a foreign key to them needs no sync.
REFERENCE_DATA = {
    "drilling.iadcactivity": "shipped by migrations with uuid5 ids (drilling 0004): the same on every box",
}
# Many-to-many fields of synced models: the applier carries concrete fields only.
M2M_NOT_CARRIED = {
    ("production.meter", "wells"): "the allocation group travels by well id in the payload extras (Meter.sync_extras)",
    ("accounts.user", "groups"): "the role travels by name in the payload extras (User.sync_extras)",
    ("accounts.user", "user_permissions"): "per-user permissions are not used: permissions come with the role",
}
# A foreign key from a model syncing one way may point at a model syncing these ways.
COMPATIBLE = {UP: {UP, BOTH, DOWN}, DOWN: {DOWN, BOTH}, BOTH: {BOTH, DOWN}}
APPEND_ONLY = {"core.auditevent", "alarms.alarmjournal"}


def test_every_listed_model_is_registered_with_its_direction():
    found = {label: spec.direction for label, spec in registry._registry.items()}
    wrong = {label: (want, found.get(label)) for label, want in EXPECTED.items() if found.get(label) != want}
    assert not wrong, f"(expected, registered): {wrong}"
    assert {label for label in APPEND_ONLY if registry.spec_for(label).append_only} == APPEND_ONLY
    assert set(found) - set(EXPECTED) == set(), "a newly synced model: add it to EXPECTED and docs/sync.md"


def test_every_synced_foreign_key_can_be_satisfied_at_the_receiver():
    """A foreign key that travels must point at a model that reaches the receiver first (a compatible direction) or
    at reference data with the same ids everywhere; a field left out of the payload must be nullable or have a
    default, or the receiver's insert fails. Otherwise the events end in quarantine: fix the model, not this test."""
    problems = []
    for label, spec in sorted(registry._registry.items()):
        sent = {f.attname for f in spec.fields}
        for f in spec.model._meta.concrete_fields:
            if f.attname not in sent:
                if not (f.null or f.has_default() or f.primary_key):
                    problems.append(f"{label}.{f.name}: not sent, but NOT NULL without a default")
                continue
            if not f.is_relation:
                continue
            target = f.remote_field.model._meta.label_lower
            if target == label or target in REFERENCE_DATA:
                continue
            tspec = registry.spec_for(target)
            if tspec is None:
                problems.append(f"{label}.{f.name} -> {target}: target does not sync (exclude the field, sync the "
                                f"target, or make its ids deterministic and list it in REFERENCE_DATA)")
            elif tspec.direction not in COMPATIBLE[spec.direction]:
                problems.append(f"{label} ({spec.direction}).{f.name} -> {target} ({tspec.direction})")
        for m2m in spec.model._meta.many_to_many:
            if (label, m2m.name) not in M2M_NOT_CARRIED:
                problems.append(f"{label}.{m2m.name}: many-to-many fields are not carried by the applier")
    assert not problems, "\n".join(problems)


def test_iadc_codes_have_the_same_ids_on_every_box(db):
    from apps.drilling.models import IadcActivity

    ns = uuid.UUID("5b0f3c1e-8d1a-4c53-9a43-1adc00000000")
    rows = list(IadcActivity.objects.values_list("pk", "code", "subcode"))
    assert rows and all(pk == uuid.uuid5(ns, f"{code}/{subcode}") for pk, code, subcode in rows)


# --- Two real databases ---------------------------------------------------------------------------------------------
def _edge(settings, hub):
    edge_id = f"edge-cov-{uuid.uuid4().hex[:8]}"
    settings.EDGE_ID = edge_id
    return edge_id, hub.issue_token(edge_id)


def _reference_iadc_code(hub_url: str):
    """IADC code 2 (drilling) on both boxes with its deterministic id. Data-migration rows do not survive the flush of
    an earlier transactional test, and the hub database is a copy taken whenever the first sync test runs: put the
    reference row back on each side the way a migrated box has it, so this test does not depend on test order."""
    import psycopg
    from django.db import connection

    from apps.drilling.models import IadcActivity

    ns = uuid.UUID("5b0f3c1e-8d1a-4c53-9a43-1adc00000000")
    activity, _ = IadcActivity.objects.get_or_create(
        id=uuid.uuid5(ns, "2/"), defaults={"code": "2", "subcode": "", "description": "Drilling"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM drilling_iadcactivity WHERE id = %s", [activity.pk])
        columns = [c.name for c in cursor.description]
        row = cursor.fetchone()
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    with psycopg.connect(hub_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"INSERT INTO drilling_iadcactivity ({names}) VALUES ({marks}) "  # noqa: S608 (catalogue names)
                     "ON CONFLICT DO NOTHING", row)
    return activity


def _make_operational_records(tag: str, activity) -> dict:
    """One of each record issue 8 lists, made at the edge the way the apps make them. Returns {label: [ids]}."""
    from apps.drilling.models import DrillingReport, Rig, TimeLogRow
    from apps.finance.models import AFE, AFELine, CostEntry
    from apps.intervention.models import InterventionJob, Toolstring
    from apps.inventory import services as inventory
    from apps.inventory.models import Item, Location, Warehouse
    from apps.maintenance.models import Equipment, WorkOrder
    from apps.production.models import DailyWellProduction, WellTest
    from apps.wells.models import Field, Site, Well, Wellbore
    from scada.alarms import services as alarms
    from scada.alarms.models import AlarmDefinition
    from tests.scada.helpers import make_device, make_tag

    t = tag.upper()
    with transaction.atomic():
        field = Field.objects.create(code=f"F{t}", name=f"Field {tag}")
        site = Site.objects.create(field=field, code=f"S{t}", name=f"Site {tag}")
        well = Well.objects.create(site=site, name=f"{t}-1", uwi=f"UWI-{t}")
        wellbore = Wellbore.objects.create(well=well, name="OH")
        rig = Rig.objects.create(name=f"Rig {t}", site=site)
        ddr = DrillingReport.objects.create(wellbore=wellbore, rig=rig, report_date=dt.date(2026, 3, 1))
        rows = [TimeLogRow.objects.create(report=ddr, start_time=dt.time(h), end_time=dt.time(h + 6),
                                          activity=activity,
                                          description=f"Drill ahead {h}") for h in (6, 12)]
        daily = DailyWellProduction.objects.create(well=well, prod_date=dt.date(2026, 3, 1), hours_on=24,
                                                   oil_m3=Decimal("41.5"), gas_sm3=Decimal("5200"))
        test = WellTest.objects.create(well=well, test_date=dt.date(2026, 3, 2), duration_hours=12,
                                       oil_rate_m3d=40, gas_rate_sm3d=5000, water_rate_m3d=3)
        job = InterventionJob.objects.create(well=well, job_type="slickline", planned_start=dt.date(2026, 3, 3))
        string = Toolstring.objects.create(name=f"Gauge run {t}", well=well, operation_type="Gauge run", job=job)
        item = Item.objects.create(sku=f"SKU-{t}", description="Barite 25 kg sack", uom="ea")
        store = Warehouse.objects.create(site=site, code=f"WH-{t}", name="Site store")
        binloc = Location.objects.create(warehouse=store, code="A-01")
    move = inventory.receive(item, binloc, 20, Decimal("18.50"), reference=f"DT-{t}")
    with transaction.atomic():
        afe = AFE.objects.create(site=site, well=well, number=f"AFE-{t}", title="Workover", afe_type="workover")
        line = AFELine.objects.create(afe=afe, category="RIG", estimate=Decimal("100000"))
        cost = CostEntry.objects.create(site=site, date=dt.date(2026, 3, 3), amount=Decimal("12500.00"),
                                        afe_line=line, source_type="manual", source_id=f"cov-{t}")
        pump = Equipment.objects.create(site=site, well=well, tag_number=f"P-{t}", name="Injection pump")
        wo = WorkOrder.objects.create(equipment=pump, title="Seal leak")
    device = make_device(site)
    pv = make_tag(device, name=f"{t}.THP", well=well)
    definition = AlarmDefinition.objects.create(tag=pv, kind="H", setpoint=80, message="THP high")
    with transaction.atomic():
        alarm = alarms.ensure_alarm(definition)
        entry = alarms.transition(alarm, "raise", value=91.5)
    return {
        "drilling.drillingreport": [ddr.pk], "drilling.timelogrow": [r.pk for r in rows],
        "production.dailywellproduction": [daily.pk], "production.welltest": [test.pk],
        "intervention.interventionjob": [job.pk], "intervention.toolstring": [string.pk],
        "inventory.stockmove": [move.pk], "inventory.item": [item.pk], "finance.costentry": [cost.pk],
        "maintenance.workorder": [wo.pk], "alarms.alarmjournal": [entry.pk],
    }


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_operational_records_made_at_the_edge_land_at_the_hub_once(hub, sync_dbs, settings):
    edge_id, token = _edge(settings, hub)
    made = _make_operational_records(uuid.uuid4().hex[:6], _reference_iadc_code(sync_dbs[1]))
    result = run_sync_once(forwarder_env(sync_dbs[0], hub.url, token, edge_id))
    assert result.returncode == 0, result.stderr
    states = Counter(OutboxEvent.objects.values_list("state", flat=True))
    assert states == {EventState.DELIVERED: sum(states.values())}, (states, list(
        OutboxEvent.objects.exclude(state=EventState.DELIVERED).values_list("aggregate_type", "last_error")))

    received = Counter(hub.query("SELECT event_id::text FROM sync_receivedevent WHERE edge_id = %s", (edge_id,)))
    assert all(n == 1 for n in received.values()), "an event was applied twice"
    assert len(received) == OutboxEvent.objects.count()
    for label, ids in made.items():
        table = apps.get_model(label)._meta.db_table
        rows = hub.query(f"SELECT id::text FROM {table} WHERE id::text = ANY(%s)",  # noqa: S608 (table from metadata)
                         ([str(i) for i in ids],))
        assert sorted(r[0] for r in rows) == sorted(str(i) for i in ids), label
    # The journal row arrives without its alarm (per-box SCADA state), with its site, event and value.
    assert hub.query("SELECT alarm_id, event, value FROM alarms_alarmjournal WHERE id = %s",
                     (made["alarms.alarmjournal"][0],)) == [(None, "raise", 91.5)]
    # The time log kept its IADC code (same id at the hub) and the toolstring its job.
    assert hub.query("SELECT count(*) FROM drilling_timelogrow t JOIN drilling_iadcactivity a "
                     "ON a.id = t.activity_id WHERE t.id::text = ANY(%s) AND a.code = '2'",
                     ([str(i) for i in made["drilling.timelogrow"]],)) == [(2,)]
    assert hub.query("SELECT job_id FROM intervention_toolstring WHERE id = %s",
                     (made["intervention.toolstring"][0],)) == [(made["intervention.interventionjob"][0],)]
    # Redelivering everything changes nothing.
    OutboxEvent.objects.update(state=EventState.PENDING, delivered_at=None)
    again = run_sync_once(forwarder_env(sync_dbs[0], hub.url, token, edge_id))
    assert again.returncode == 0, again.stderr
    assert len(Counter(hub.query("SELECT event_id FROM sync_receivedevent WHERE edge_id = %s", (edge_id,)))) == len(
        received)


HUB_AUTHORING = """
import json
from decimal import Decimal
from apps.intervention.models import ToolComponent
from apps.inventory.models import Item
from apps.finance.models import Account
t = {tag!r}
item = Item.objects.create(sku="CAT-" + t, description="Slickline gauge ring 2.313 in", uom="ea")
tool = ToolComponent.objects.create(code="GR-" + t, name="Gauge ring 2.313", tool_type="gauge_cutter",
                                    od_mm=Decimal("58.75"), length_m=Decimal("0.45"), weight_kg=Decimal("3.2"))
acct = Account.objects.create(code="7" + t[:5], name="Hub account " + t, account_type="expense")
print(json.dumps({{"item": str(item.pk), "tool": str(tool.pk), "account": str(acct.pk)}}))
"""


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_master_data_authored_at_the_hub_reaches_the_edge_by_pull(hub, sync_dbs, settings):
    from apps.finance.models import Account
    from apps.intervention.models import ToolComponent
    from apps.inventory.models import Item

    edge_id, token = _edge(settings, hub)
    tag = uuid.uuid4().hex[:6].upper()
    env = base_env(EDGE_ROLE="hub", EDGE_ID="hub", DATABASE_URL=sync_dbs[1])
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", HUB_AUTHORING.format(tag=tag)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ids = json.loads(out.stdout.strip().splitlines()[-1])
    feed = hub.query("SELECT aggregate_type FROM sync_outboxevent WHERE aggregate_id = ANY(%s)", (list(ids.values()),))
    assert sorted(r[0] for r in feed) == ["finance.account", "intervention.toolcomponent", "inventory.item"]
    # The hub holds back events younger than SYNC_PULL_SETTLE_SECONDS; age them instead of waiting.
    hub.query("UPDATE sync_outboxevent SET created_at = created_at - interval '1 minute' "
              "WHERE aggregate_id = ANY(%s) RETURNING sequence", (list(ids.values()),))

    result = run_sync_once(forwarder_env(sync_dbs[0], hub.url, token, edge_id))
    assert result.returncode == 0, result.stderr
    assert Item.objects.get(pk=ids["item"]).sku == f"CAT-{tag}"
    assert ToolComponent.objects.get(pk=ids["tool"]).code == f"GR-{tag}"
    assert Account.objects.get(pk=ids["account"]).name == f"Hub account {tag}"
    assert not OutboxEvent.objects.filter(aggregate_id__in=ids.values()).exists()  # applied, not echoed back up
    # Pulling again is idempotent.
    assert run_sync_once(forwarder_env(sync_dbs[0], hub.url, token, edge_id)).returncode == 0
    assert Item.objects.filter(sku=f"CAT-{tag}").count() == 1


def test_documented_in_docs_sync_md():
    text = (ROOT / "docs" / "sync.md").read_text()
    section = text.split("What syncs, and which way", 1)
    assert len(section) == 2, "docs/sync.md lost its 'What syncs, and which way' table"
    missing = [label for label in EXPECTED if f"`{label}`" not in section[1]]
    assert not missing, missing



@pytest.mark.django_db(transaction=True)
def test_iadc_rekey_migration_carries_time_log_rows():
    """Drilling 0004 on a box whose codes and time-log rows have random ids (loaded by 0003 before it existed)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from apps.drilling.models import DrillingReport, IadcActivity, TimeLogRow
    from apps.wells.models import Field, Site, Well, Wellbore

    field = Field.objects.create(code="FMIG", name="Field mig")
    well = Well.objects.create(site=Site.objects.create(field=field, code="SMIG", name="Site mig"), name="MIG-1",
                               uwi="UWI-MIG")
    report = DrillingReport.objects.create(wellbore=Wellbore.objects.create(well=well, name="OH"),
                                           report_date=dt.date(2026, 3, 1))
    old = uuid.uuid4()
    IadcActivity.objects.create(id=old, code="99", subcode="Z", description="Legacy code")
    row = TimeLogRow.objects.create(report=report, start_time=dt.time(6), end_time=dt.time(7),
                                    activity_id=old, description="x")
    executor = MigrationExecutor(connection)
    executor.migrate([("drilling", "0003_iadc_codes")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("drilling"))
    new = uuid.uuid5(uuid.UUID("5b0f3c1e-8d1a-4c53-9a43-1adc00000000"), "99/Z")
    assert not IadcActivity.objects.filter(pk=old).exists()
    assert IadcActivity.objects.get(pk=new).description == "Legacy code"
    assert TimeLogRow.objects.get(pk=row.pk).activity_id == new


@pytest.mark.django_db
def test_backfill_queues_existing_rows_targets_first(settings):
    """Rows made before their model synced have no events: sync_backfill queues them, foreign-key targets first."""
    from django.core.management import call_command

    from apps.drilling.models import DrillingReport
    from apps.wells.models import Field, Site, Well, Wellbore

    settings.EDGE_ROLE = "edge"
    field = Field.objects.create(code="FBF", name="Field backfill")
    well = Well.objects.create(site=Site.objects.create(field=field, code="SBF", name="Site bf"), name="BF-1",
                               uwi="UWI-BF")
    parent = Wellbore.objects.create(well=well, name="OH")
    sidetrack = Wellbore.objects.create(well=well, name="ST1", parent=parent)
    ddr = DrillingReport.objects.create(wellbore=sidetrack, report_date=dt.date(2026, 3, 1))
    OutboxEvent.objects.all().delete()
    call_command("sync_backfill", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seq = {agg: s for agg, s in OutboxEvent.objects.values_list("aggregate_id", "sequence")}
    ids = [str(x.pk) for x in (field, well.site, well, parent, sidetrack, ddr)]
    assert all(i in seq for i in ids)
    assert [seq[i] for i in ids] == sorted(seq[i] for i in ids)
    assert not OutboxEvent.objects.filter(aggregate_type="core.auditevent").exists()
    assert set(OutboxEvent.objects.values_list("op", flat=True)) == {"upsert"}
    # Inserted in chunks: a chunk boundary keeps the order and loses no row.
    queued = OutboxEvent.objects.count()
    OutboxEvent.objects.all().delete()
    call_command("sync_backfill", "--chunk", "2", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seq = {agg: s for agg, s in OutboxEvent.objects.values_list("aggregate_id", "sequence")}
    assert OutboxEvent.objects.count() == queued
    assert [seq[i] for i in ids] == sorted(seq[i] for i in ids)


@pytest.mark.django_db
def test_backfill_refuses_a_chunk_below_one():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--chunk must be at least 1"):
        call_command("sync_backfill", "--chunk", "0")
