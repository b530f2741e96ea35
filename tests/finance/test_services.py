"""Ledger, AFE workflow, cost booking, purchasing and the AFE report."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.models import Notification
from apps.finance import services
from apps.finance.choices import AFEStatus, JournalStatus, POStatus
from apps.finance.models import AFESupplement, CostEntry, ImmutableError, Invoice, JournalEntry, PurchaseOrder
from tests.finance.factories import make_afe, make_cost_center, make_vendor, n

pytestmark = pytest.mark.django_db


def _accounts():
    return services.system_account("opex"), services.system_account("payable")


def test_unbalanced_entry_is_refused(world):
    opex, payable = _accounts()
    with pytest.raises(ValidationError) as err:
        services.create_journal(world.site_a, "2026-01-01", "bad", [{"account": opex, "debit": 10},
                                                                    {"account": payable, "credit": 9}])
    assert "lines" in err.value.message_dict
    assert not JournalEntry.objects.exists()


def test_posted_entry_is_immutable_and_reversed(world):
    opex, payable = _accounts()
    entry = services.create_journal(world.site_a, "2026-01-01", "ok", [{"account": opex, "debit": 10},
                                                                       {"account": payable, "credit": 10}])
    assert entry.status == JournalStatus.POSTED
    entry = JournalEntry.objects.get(pk=entry.pk)
    entry.memo = "tampered"
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()
    line = entry.lines.first()
    line.debit = Decimal("11")
    with pytest.raises(ImmutableError):
        line.save()
    reversal = services.reverse_entry(entry)
    assert reversal.reverses_id == entry.pk and reversal.status == JournalStatus.POSTED
    by_account = {(x.account.code, x.debit, x.credit) for x in reversal.lines.all()}
    assert by_account == {(opex.code, Decimal("0.00"), Decimal("10.00")), (payable.code, Decimal("10.00"),
                                                                             Decimal("0.00"))}
    with pytest.raises(ValidationError):
        services.reverse_entry(entry)


def test_posted_entry_api_answers_409(world, api_for):
    opex, payable = _accounts()
    entry = services.create_journal(world.site_a, "2026-01-01", "ok", [{"account": opex, "debit": 10},
                                                                       {"account": payable, "credit": 10}])
    client = api_for("supervisor")
    r = client.patch(f"/api/v1/finance/journal-entries/{entry.pk}/", {"memo": "x"}, format="json")
    assert r.status_code == 409
    r = client.post(f"/api/v1/finance/journal-entries/{entry.pk}/reverse/", {}, format="json")
    assert r.status_code == 201 and r.json()["reverses"] == str(entry.pk)


def test_draft_posted_through_api_only_when_balanced(world, api_for):
    opex, payable = _accounts()
    entry = services.create_journal(world.site_a, "2026-01-01", "d", [{"account": opex, "debit": 10},
                                                                      {"account": payable, "credit": 10}], post=False)
    line = entry.lines.get(account=payable)
    line.credit = Decimal("8")
    line.save()
    client = api_for("supervisor")
    r = client.post(f"/api/v1/finance/journal-entries/{entry.pk}/post/")
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "lines"
    line.credit = Decimal("10")
    line.save()
    r = client.post(f"/api/v1/finance/journal-entries/{entry.pk}/post/")
    assert r.status_code == 200 and r.json()["status"] == "posted"


def test_afe_workflow_with_partner_shares_and_limits(world, personas, settings):
    settings.FINANCE_APPROVAL_LIMITS = {"supervisor": 150000}
    afe = make_afe(world.site_a, estimate=Decimal("100000"), categories=("RIG", "MUD"))
    partner = afe.partners.get()
    partner.working_interest = Decimal("60")
    partner.save()
    with pytest.raises(ValidationError) as err:
        services.submit_afe(afe)
    assert "partners" in err.value.message_dict
    afe.partners.create(partner="Partner B", working_interest=Decimal("40"))
    services.submit_afe(afe)
    with pytest.raises(ValidationError) as err:
        services.approve_afe(afe, personas["supervisor"])  # 200 000 > 150 000
    assert "approval limit" in err.value.message_dict["amount"][0]
    services.approve_afe(afe, personas["admin"], "ok")
    afe.refresh_from_db()
    assert afe.status == AFEStatus.APPROVED and afe.approved_amount == Decimal("200000")
    sup = AFESupplement.objects.create(afe=afe, amount=Decimal("25000"), reason="Extra casing string")
    services.approve_supplement(sup, personas["admin"])
    afe.refresh_from_db()
    assert afe.approved_amount == Decimal("225000")


def test_operator_cannot_approve_and_supervisor_can_through_api(world, api_for):
    afe = make_afe(world.site_a, estimate=Decimal("1000"))
    services.submit_afe(afe)
    r = api_for("operator").post(f"/api/v1/finance/afes/{afe.pk}/approve/", {}, format="json")
    assert r.status_code == 403
    r = api_for("supervisor").post(f"/api/v1/finance/afes/{afe.pk}/approve/", {"note": "go"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "approved"
    report = api_for("viewer").get(f"/api/v1/finance/afes/{afe.pk}/report/").json()
    assert report["totals"]["estimate"] == 1000


def test_reject_needs_a_reason(world, personas):
    afe = make_afe(world.site_a)
    services.submit_afe(afe)
    with pytest.raises(ValidationError):
        services.reject_afe(afe, personas["supervisor"], "")
    services.reject_afe(afe, personas["supervisor"], "too expensive")
    services.reopen_afe(afe)
    afe.refresh_from_db()
    assert afe.status == AFEStatus.DRAFT


def test_book_cost_is_idempotent_and_balanced(world, personas):
    afe = make_afe(world.site_a, approve_as=personas["admin"])
    line = afe.lines.get()
    first = services.book_cost("ddr", "ddr-1", "1234.50", afe_line=line, date="2026-01-02")
    again = services.book_cost("ddr", "ddr-1", "1234.50", afe_line=line, date="2026-01-02")
    assert first.pk == again.pk and CostEntry.objects.count() == 1
    debit, credit = first.journal_entry.totals()
    assert debit == credit == Decimal("1234.50")
    with pytest.raises(ValidationError):
        services.book_cost("ddr", "ddr-1", "2000", afe_line=line)
    replaced = services.book_cost("ddr", "ddr-1", "2000", afe_line=line, replace=True)
    assert replaced.pk == first.pk and replaced.amount == Decimal("2000.00")
    assert JournalEntry.objects.filter(reverses=first.journal_entry).count() == 1
    assert services.afe_report(afe)["totals"]["actual"] == Decimal("2000.00")


def test_cost_to_draft_afe_or_closed_cost_center_is_refused(world):
    afe = make_afe(world.site_a)
    with pytest.raises(ValidationError) as err:
        services.book_cost("manual", "m1", 10, afe_line=afe.lines.get())
    assert "approved" in err.value.message_dict["afe_line"][0]
    cc = make_cost_center(world.site_a)
    cc.active = False
    cc.save()
    with pytest.raises(ValidationError) as err:
        services.book_cost("manual", "m2", 10, cost_center=cc)
    assert "cost_center" in err.value.message_dict
    assert not CostEntry.objects.exists() and not JournalEntry.objects.exists()


def test_po_commitment_invoice_match_and_report(world, personas):
    afe = make_afe(world.site_a, approve_as=personas["admin"], estimate=Decimal("10000"), owner=personas["operator"])
    line = afe.lines.get()
    po = PurchaseOrder.objects.create(site=world.site_a, vendor=make_vendor(), number=f"PO{n()}",
                                      description="Mud chemicals", amount=Decimal("5000"), afe_line=line)
    services.issue_po(po)
    report = services.afe_report(afe)
    assert report["lines"][0]["committed"] == Decimal("5000") and report["totals"]["actual"] == 0
    too_much = Invoice.objects.create(site=world.site_a, vendor=po.vendor, purchase_order=po, number="X1",
                                      invoice_date="2026-01-03", amount=Decimal("6000"))
    with pytest.raises(ValidationError) as err:
        services.post_invoice(too_much)
    assert "amount" in err.value.message_dict
    inv = Invoice.objects.create(site=world.site_a, vendor=po.vendor, purchase_order=po, number="X2",
                                 invoice_date="2026-01-03", amount=Decimal("3000"))
    services.post_invoice(inv)
    report = services.afe_report(afe)
    row = report["lines"][0]
    assert (row["estimate"], row["committed"], row["actual"], row["variance"]) == (
        Decimal("10000"), Decimal("2000"), Decimal("3000"), Decimal("5000"))
    assert not report["warning"]
    assert PurchaseOrder.objects.get(pk=po.pk).status == POStatus.ISSUED


def test_warning_share_notifies_owner_once(world, personas):
    afe = make_afe(world.site_a, approve_as=personas["admin"], estimate=Decimal("1000"), owner=personas["operator"])
    line = afe.lines.get()
    services.book_cost("manual", "a", 800, afe_line=line)
    assert not Notification.objects.filter(recipient=personas["operator"]).exists()
    services.book_cost("manual", "b", 150, afe_line=line)  # 95 % >= 90 %
    services.book_cost("manual", "c", 10, afe_line=line)
    notes = Notification.objects.filter(recipient=personas["operator"])
    assert notes.count() == 1 and afe.number in notes.get().subject
    assert notes.get().severity == "warning"


@pytest.mark.postgres_only
def test_database_refuses_changing_posted_or_unbalanced_journals(world):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL triggers")
    opex, payable = _accounts()
    entry = services.create_journal(world.site_a, "2026-01-01", "ok", [{"account": opex, "debit": 10},
                                                                       {"account": payable, "credit": 10}])
    with pytest.raises(DatabaseError), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(memo="tampered")  # bypasses the model guard
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.lines.filter(credit__gt=0).update(credit=9)
    draft = services.create_journal(world.site_a, "2026-01-01", "d", [{"account": opex, "debit": 10},
                                                                      {"account": payable, "credit": 7}], post=False)
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        JournalEntry.objects.filter(pk=draft.pk).update(status="posted")  # unbalanced: refused
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        services.post_entry(services.create_journal(world.site_a, "2026-01-01", "ok2", [
            {"account": opex, "debit": 5}, {"account": payable, "credit": 5}], post=False))
