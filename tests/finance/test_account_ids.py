"""Account ids derive from their code (the same account has the same id on every box), finance migration 0003 re-keys
the system accounts made before with random ids, and a journal entry carries its lines to the hub."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.finance import services
from apps.finance.models import (
    ACCOUNT_NAMESPACE,
    Account,
    AFELine,
    CostCenter,
    JournalEntry,
    JournalLine,
    account_id,
)
from apps.sync.models import OutboxEvent
from tests.finance.factories import make_afe

MIGRATION = "0003_system_account_ids"


def _migration():
    import importlib

    return importlib.import_module(f"apps.finance.migrations.{MIGRATION}")


def test_the_migration_keeps_the_namespace_and_the_system_accounts_of_the_services():
    migration = _migration()
    assert migration.ACCOUNT_NAMESPACE == ACCOUNT_NAMESPACE
    assert migration.SYSTEM_ACCOUNTS == {code: (name, str(kind)) for code, name, kind in
                                         services.SYSTEM_ACCOUNTS.values()}


@pytest.mark.django_db
def test_an_account_takes_the_id_derived_from_its_code():
    assert services.system_account("opex").pk == uuid.uuid5(ACCOUNT_NAMESPACE, "6100")
    rentals = Account.objects.create(code="7100", name="Rentals", account_type="expense")
    assert rentals.pk == account_id("7100")
    # Renamed, then a new account with the old code: the derived id is taken, the new one gets a random id.
    rentals.code = "7101"
    rentals.save()
    again = Account.objects.create(code="7100", name="Rentals again", account_type="expense")
    assert again.pk != rentals.pk and Account.objects.get(pk=rentals.pk).code == "7101"


@pytest.mark.django_db
def test_a_posted_entry_carries_its_lines_and_a_draft_none(world):
    opex, payable = services.system_account("opex"), services.system_account("payable")
    lines = [{"account": opex, "debit": 10}, {"account": payable, "credit": 10}]
    draft = services.create_journal(world.site_a, "2026-01-01", "draft", lines, post=False)
    assert draft.sync_extras() == {}
    posted = services.post_entry(draft)
    extras = posted.sync_extras()
    assert {(x["account_id"], x["debit"], x["credit"]) for x in extras["lines"]} == {
        (opex.pk, Decimal("10.00"), Decimal("0.00")), (payable.pk, Decimal("0.00"), Decimal("10.00"))}


def _legacy_account(code: str, name: str, kind: str) -> Account:
    """A system account the way the services made it before 0003: a random id (bulk_create skips save())."""
    return Account.objects.bulk_create([Account(id=uuid.uuid4(), code=code, name=name, account_type=kind)])[0]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("finance", target)] if target else executor.loader.graph.leaf_nodes("finance"))


@pytest.mark.django_db(transaction=True)
def test_rekey_migration_moves_system_accounts_and_every_reference():
    from apps.accounts.services import create_or_update_user
    from apps.wells.models import Field, Site

    _migrate("0002_journal_database_guards")
    Account.objects.all().delete()
    opex = _legacy_account("6100", "Lease operating expense", "expense")
    wip = _legacy_account("1510", "Wells in progress - tangible", "asset")
    accrued = _legacy_account("2200", "Accrued liabilities (field tickets, DDR costs)", "liability")
    own = Account.objects.create(code="7300", name="An account of this box", account_type="expense")
    site = Site.objects.create(field=Field.objects.create(code="FMIG", name="Field"), code="SMIG", name="Site")
    approver, _ = create_or_update_user("mig-approver", "admin")
    center = CostCenter.objects.create(site=site, code="CC-MIG", name="Lease", account=opex)
    afe = make_afe(site, approve_as=approver, categories=("CASING",))
    line = afe.lines.get()
    AFELine.objects.filter(pk=line.pk).update(account=wip)
    posted = services.create_journal(site, "2026-01-01", "posted", [
        {"account": wip, "debit": 5, "afe_line": line}, {"account": accrued, "credit": 5}])
    feed = OutboxEvent.objects.create(edge_id="hub", aggregate_type="finance.account", aggregate_id=str(opex.pk),
                                      op="upsert", payload={"id": str(opex.pk), "code": "6100"})

    _migrate(None)

    new = {code: account_id(code) for code in ("6100", "1510", "2200")}
    assert set(Account.objects.filter(code__in=new).values_list("code", "pk")) == set(new.items())
    assert not Account.objects.filter(pk__in=[opex.pk, wip.pk, accrued.pk]).exists()
    # The missing system accounts were created; an account that is not a system account kept its id.
    codes = {code for code, _n, _k in services.SYSTEM_ACCOUNTS.values()}
    assert set(Account.objects.filter(code__in=codes).values_list("pk", flat=True)) == {account_id(c) for c in codes}
    assert Account.objects.get(code="7300").pk == own.pk
    # Every reference followed, the posted lines included.
    assert CostCenter.objects.get(pk=center.pk).account_id == new["6100"]
    assert AFELine.objects.get(pk=line.pk).account_id == new["1510"]
    assert sorted(JournalLine.objects.filter(entry=posted).values_list("account_id", flat=True)) == sorted(
        [new["1510"], new["2200"]])
    assert JournalEntry.objects.get(pk=posted.pk).status == "posted"
    # The box's feed names the account by its new id.
    feed.refresh_from_db()
    assert (feed.aggregate_id, feed.payload["id"]) == (str(new["6100"]), str(new["6100"]))
    if connection.vendor == "postgresql":  # the ledger guard is back on: a posted line still cannot change
        with pytest.raises(DatabaseError, match="cannot change"), transaction.atomic():
            JournalLine.objects.filter(entry=posted).update(description="tampered")

    # Running it again changes nothing.
    before = sorted(Account.objects.values_list("pk", "code"))
    _migrate("0002_journal_database_guards")
    _migrate(None)
    assert sorted(Account.objects.values_list("pk", "code")) == before


@pytest.mark.django_db
def test_the_receiver_keeps_a_posted_entrys_lines_and_refuses_lines_that_differ(world):
    from apps.sync.registry import Refused

    opex, payable = services.system_account("opex"), services.system_account("payable")
    entry = services.create_journal(world.site_a, "2026-01-01", "ok", [{"account": opex, "debit": 10},
                                                                       {"account": payable, "credit": 10}])
    lines = entry.sync_extras()["lines"]
    JournalEntry.sync_apply_extras({str(entry.pk): {"lines": lines}})  # already here: nothing changes
    assert entry.lines.count() == 2
    with pytest.raises(Refused, match="differ from the lines sent"):
        JournalEntry.sync_apply_extras({str(entry.pk): {"lines": lines[:1]}})
    with pytest.raises(Refused, match="debit"):
        JournalEntry.sync_apply_extras({str(entry.pk): {"lines": [{**lines[0], "debit": "-5"}, lines[1]]}})
    with pytest.raises(Refused, match="exactly the fields"):
        JournalEntry.sync_apply_extras({str(entry.pk): {"lines": [{"id": str(uuid.uuid4())}]}})
    JournalEntry.sync_apply_extras({str(entry.pk): {}})  # a draft's header: no lines to apply
