"""Finance business rules. Every function runs in one transaction; state transitions happen only here.

Public entry points other apps call:
- ``book_cost(source_type, source_id, amount, afe_line=None, cost_center=None, ...)``: an actual cost, idempotent per
  (source_type, source_id), with its balanced journal entry. Drilling (DDR daily cost), inventory (stock issues),
  HR (approved timesheets) and invoices use it.
- ``afe_report(afe)``: estimate vs committed vs actual with variance per line and total.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core import audit
from apps.core.choices import AuditAction, Severity
from apps.core.permissions import role_of
from apps.finance.choices import (
    AccountType,
    AFEStatus,
    CostClass,
    CostSource,
    InvoiceStatus,
    JournalStatus,
    POStatus,
    SupplementStatus,
)
from apps.finance.models import (
    AFE,
    ZERO,
    Account,
    AFELine,
    AFESupplement,
    CostCenter,
    CostEntry,
    Invoice,
    JournalEntry,
    JournalLine,
    PurchaseOrder,
    account_id,
)

CENT = Decimal("0.01")

# Accounts the services post to when a line/cost centre names none: key -> (code, name, type). Finance migration 0003
# keeps a copy of this table (it creates them on every box): add a new one there too, in a new migration.
SYSTEM_ACCOUNTS = {
    "inventory": ("1300", "Materials and supplies inventory", AccountType.ASSET),
    "wip_tangible": ("1510", "Wells in progress - tangible", AccountType.ASSET),
    "wip_intangible": ("1520", "Wells in progress - intangible (IDC)", AccountType.ASSET),
    "payable": ("2000", "Accounts payable", AccountType.LIABILITY),
    "payroll": ("2100", "Accrued payroll", AccountType.LIABILITY),
    "accrued": ("2200", "Accrued liabilities (field tickets, DDR costs)", AccountType.LIABILITY),
    "opex": ("6100", "Lease operating expense", AccountType.EXPENSE),
    "adjustment": ("6900", "Inventory adjustments", AccountType.EXPENSE),
}
CREDIT_ACCOUNT_BY_SOURCE = {
    CostSource.STOCK_ISSUE: "inventory",
    CostSource.STOCK_RETURN: "inventory",
    CostSource.WORK_ORDER: "inventory",
    CostSource.LABOUR: "payroll",
    CostSource.INVOICE: "payable",
    CostSource.DDR: "accrued",
    CostSource.MANUAL: "accrued",
}


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def system_account(key: str) -> Account:
    """The account the services post to for ``key``, created on first use. Its id derives from its code
    (``models.account_id``), so it is the same on every box: finance migration 0003 creates them all and re-keyed
    those made before with random ids."""
    code, name, kind = SYSTEM_ACCOUNTS[key]
    account, _ = Account.objects.get_or_create(code=code, defaults={"id": account_id(code), "name": name,
                                                                    "account_type": kind})
    return account


# -- journals ---------------------------------------------------------------------------------------------------------
def create_journal(site, date, memo: str, lines: list[dict], *, post: bool = True, source_type: str = "",
                   source_id: str = "") -> JournalEntry:
    """A journal entry with ``lines`` ([{account, debit|credit, cost_center?, afe_line?, description?}]), posted
    unless ``post=False``. Unbalanced lines are refused when posting."""
    with transaction.atomic():
        entry = JournalEntry.objects.create(site=site, date=date, memo=memo[:200], source_type=source_type,
                                            source_id=str(source_id)[:64])
        for line in lines:
            JournalLine.objects.create(
                entry=entry, account=line["account"], debit=money(line.get("debit") or 0),
                credit=money(line.get("credit") or 0), description=line.get("description", "")[:200],
                cost_center=line.get("cost_center"), afe_line=line.get("afe_line"))
        if post:
            entry = post_entry(entry)
        return entry


def post_entry(entry: JournalEntry) -> JournalEntry:
    """DRAFT -> POSTED, only when debits equal credits (and are not zero)."""
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != JournalStatus.DRAFT:
            raise ValidationError({"status": "Only a draft entry can be posted."})
        debit, credit = entry.totals()
        if entry.lines.count() < 2 or debit == ZERO:
            raise ValidationError({"lines": "An entry needs at least one debit and one credit."})
        if debit != credit:
            raise ValidationError({"lines": f"Debits ({debit}) do not equal credits ({credit})."})
        entry.status = JournalStatus.POSTED
        entry.posted_at = timezone.now()
        entry.save()
        audit.record(AuditAction.TRANSITION, entry, changes={"status": ["draft", "posted"]},
                     message=f"posted: {debit} = {credit}")
        return entry


def reverse_entry(entry: JournalEntry, memo: str = "", date=None) -> JournalEntry:
    """A posted entry is corrected by a new posted entry with debits and credits swapped."""
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != JournalStatus.POSTED:
            raise ValidationError({"status": "Only a posted entry can be reversed (delete or edit a draft)."})
        if JournalEntry.objects.filter(reverses=entry).exists():
            raise ValidationError({"reverses": "This entry has already been reversed."})
        reversal = JournalEntry.objects.create(
            site=entry.site, date=date or timezone.localdate(), memo=(memo or f"Reversal of {entry.memo}")[:200],
            reverses=entry, source_type=entry.source_type, source_id=entry.source_id)
        for line in entry.lines.all():
            JournalLine.objects.create(entry=reversal, account=line.account, debit=line.credit, credit=line.debit,
                                       description=line.description, cost_center=line.cost_center,
                                       afe_line=line.afe_line)
        return post_entry(reversal)


# -- AFE workflow -----------------------------------------------------------------------------------------------------
def approval_limit(user) -> Decimal | None:
    """The largest amount ``user`` may approve (None: unlimited)."""
    if user is None:
        return ZERO
    if user.is_superuser or role_of(user) == "admin":
        return None
    limit = settings.FINANCE_APPROVAL_LIMITS.get(role_of(user))
    return ZERO if limit is None else Decimal(limit)


def _transition(obj, field: str, new: str, message: str = ""):
    old = getattr(obj, field)
    setattr(obj, field, new)
    obj.save()
    audit.record(AuditAction.TRANSITION, obj, changes={field: [old, new]}, message=message)


def _locked_afe(afe) -> AFE:
    return AFE.objects.select_for_update().get(pk=afe.pk)


def submit_afe(afe: AFE, user=None) -> AFE:
    """DRAFT -> SUBMITTED: needs at least one line and partner shares summing to exactly 100 %."""
    with transaction.atomic():
        afe = _locked_afe(afe)
        if afe.status != AFEStatus.DRAFT:
            raise ValidationError({"status": f"Only a draft AFE can be submitted (it is {afe.status})."})
        if not afe.lines.exists():
            raise ValidationError({"lines": "An AFE needs at least one line to be submitted."})
        total = afe.partners.aggregate(s=Sum("working_interest"))["s"] or 0
        if total != 100:
            raise ValidationError({"partners": f"Partner working interests total {total}%, not 100%."})
        afe.submitted_at = timezone.now()
        _transition(afe, "status", AFEStatus.SUBMITTED, "submitted for approval")
        return afe


def _check_limit(user, amount: Decimal, what: str):
    limit = approval_limit(user)
    if limit is not None and amount > limit:
        raise ValidationError({"amount": f"{what} of {amount} exceeds your approval limit of {limit}."})


def approve_afe(afe: AFE, user, note: str = "") -> AFE:
    """SUBMITTED -> APPROVED within the approver's limit; the approved amount is the estimate."""
    with transaction.atomic():
        afe = _locked_afe(afe)
        if afe.status != AFEStatus.SUBMITTED:
            raise ValidationError({"status": f"Only a submitted AFE can be approved (it is {afe.status})."})
        estimate = afe.estimate
        _check_limit(user, estimate, "The AFE estimate")
        afe.approved_amount = estimate
        afe.decided_at, afe.decided_by, afe.decision_note = timezone.now(), user, note
        _transition(afe, "status", AFEStatus.APPROVED, note or "approved")
        return afe


def reject_afe(afe: AFE, user, note: str = "") -> AFE:
    with transaction.atomic():
        afe = _locked_afe(afe)
        if afe.status != AFEStatus.SUBMITTED:
            raise ValidationError({"status": f"Only a submitted AFE can be rejected (it is {afe.status})."})
        if not note:
            raise ValidationError({"note": "Say why the AFE is rejected."})
        afe.decided_at, afe.decided_by, afe.decision_note = timezone.now(), user, note
        _transition(afe, "status", AFEStatus.REJECTED, note)
        return afe


def reopen_afe(afe: AFE, user=None) -> AFE:
    """REJECTED -> DRAFT, to rework and resubmit."""
    with transaction.atomic():
        afe = _locked_afe(afe)
        if afe.status != AFEStatus.REJECTED:
            raise ValidationError({"status": "Only a rejected AFE can be reopened."})
        _transition(afe, "status", AFEStatus.DRAFT, "reopened")
        return afe


def approve_supplement(supplement: AFESupplement, user) -> AFESupplement:
    """DRAFT -> APPROVED: raises the AFE's approved amount (the approver's limit applies to the new total)."""
    with transaction.atomic():
        supplement = AFESupplement.objects.select_for_update().get(pk=supplement.pk)
        afe = _locked_afe(supplement.afe)
        if supplement.status != SupplementStatus.DRAFT:
            raise ValidationError({"status": "Only a draft supplement can be approved."})
        if afe.status != AFEStatus.APPROVED:
            raise ValidationError({"afe": "Supplements apply to approved AFEs only."})
        new_total = afe.approved_amount + supplement.amount
        _check_limit(user, new_total, "The supplemented AFE total")
        supplement.decided_at, supplement.decided_by = timezone.now(), user
        _transition(supplement, "status", SupplementStatus.APPROVED, f"+{supplement.amount}")
        old = afe.approved_amount
        afe.approved_amount = new_total
        afe.warned_at = None  # the warning share is measured against the new amount
        afe.save()
        audit.record(AuditAction.UPDATE, afe, changes={"approved_amount": [str(old), str(new_total)]},
                     message=f"supplement {supplement.pk} approved")
        check_afe_warning(afe)
        return supplement


def reject_supplement(supplement: AFESupplement, user) -> AFESupplement:
    with transaction.atomic():
        supplement = AFESupplement.objects.select_for_update().get(pk=supplement.pk)
        if supplement.status != SupplementStatus.DRAFT:
            raise ValidationError({"status": "Only a draft supplement can be rejected."})
        supplement.decided_at, supplement.decided_by = timezone.now(), user
        _transition(supplement, "status", SupplementStatus.REJECTED)
        return supplement


# -- costs ------------------------------------------------------------------------------------------------------------
def _validate_target(afe_line, cost_center):
    if bool(afe_line) == bool(cost_center):
        raise ValidationError({"afe_line": "Book a cost to exactly one AFE line or cost centre."})
    if afe_line is not None and afe_line.afe.status != AFEStatus.APPROVED:
        raise ValidationError({"afe_line": f"AFE {afe_line.afe.number} is {afe_line.afe.get_status_display()}: "
                                           "costs can only be booked against an approved AFE."})
    if cost_center is not None and not cost_center.active:
        raise ValidationError({"cost_center": f"Cost centre {cost_center.code} is closed."})


def _debit_account(afe_line, cost_center) -> Account:
    if afe_line is not None:
        if afe_line.account_id:
            return afe_line.account
        return system_account("wip_tangible" if afe_line.cost_class == CostClass.TANGIBLE else "wip_intangible")
    return cost_center.account or system_account("opex")


def book_cost(source_type: str, source_id, amount, afe_line: AFELine | None = None,
              cost_center: CostCenter | None = None, *, date: dt.date | None = None, description: str = "",
              credit_account: Account | None = None, replace: bool = False) -> CostEntry:
    """Book an actual cost once per (source_type, source_id) with a balanced, posted journal entry.

    Calling again for the same source returns the existing entry. If the amount or target changed, the call is
    refused unless ``replace=True``, in which case the old journal entry is reversed and the entry re-booked (e.g.
    a corrected DDR). A negative amount (a stock return) credits the AFE line/cost centre.
    Refused (ValidationError naming the field) for a non-approved AFE or a closed cost centre.
    """
    if source_type not in CostSource.values:
        raise ValidationError({"source_type": f"Unknown cost source {source_type!r}."})
    amount = money(amount)
    if amount == ZERO:
        raise ValidationError({"amount": "A cost entry needs a non-zero amount."})
    source_id = str(source_id)
    date = date or timezone.localdate()
    with transaction.atomic():
        afe = _locked_afe(afe_line.afe) if afe_line is not None else None  # serialises bookings and the warning
        if afe_line is not None:
            afe_line.afe = afe
        _validate_target(afe_line, cost_center)
        site = afe.site if afe is not None else cost_center.site
        existing = CostEntry.objects.select_for_update().filter(source_type=source_type, source_id=source_id).first()
        if existing is not None:
            same = (existing.amount == amount and existing.afe_line_id == (afe_line.pk if afe_line else None)
                    and existing.cost_center_id == (cost_center.pk if cost_center else None))
            if same:
                return existing
            if not replace:
                raise ValidationError({"source_id": f"Cost for {source_type} {source_id} is already booked "
                                                    f"({existing.amount}); pass replace=True to re-book it."})
            if existing.journal_entry_id:
                reverse_entry(existing.journal_entry, memo=f"Re-booking {source_type} {source_id}")
        debit_account = _debit_account(afe_line, cost_center)
        credit = credit_account or system_account(CREDIT_ACCOUNT_BY_SOURCE[source_type])
        value = abs(amount)
        target = {"afe_line": afe_line, "cost_center": cost_center, "description": description}
        lines = [{"account": debit_account, "debit": value, **target}, {"account": credit, "credit": value,
                                                                        "description": description}]
        if amount < 0:
            lines = [{"account": debit_account, "credit": value, **target}, {"account": credit, "debit": value,
                                                                             "description": description}]
        journal = create_journal(site, date, f"{source_type} {source_id} {description}", lines,
                                 source_type=source_type, source_id=source_id)
        if existing is not None:
            existing.amount, existing.afe_line, existing.cost_center = amount, afe_line, cost_center
            existing.date, existing.description, existing.site = date, description[:200], site
            existing.journal_entry = journal
            existing.save()
            entry = existing
        else:
            try:
                with transaction.atomic():
                    entry = CostEntry.objects.create(
                        site=site, date=date, amount=amount, afe_line=afe_line, cost_center=cost_center,
                        source_type=source_type, source_id=source_id, description=description[:200],
                        journal_entry=journal)
            except IntegrityError as exc:
                raise ValidationError({"source_id": f"Cost for {source_type} {source_id} is already booked."}) from exc
        if afe is not None:
            check_afe_warning(afe)
        return entry


def _line_figures(afe: AFE) -> dict:
    actual = dict(CostEntry.objects.filter(afe_line__afe=afe).values_list("afe_line").annotate(s=Sum("amount")))
    committed: dict = {}
    for po in PurchaseOrder.objects.filter(afe_line__afe=afe, status=POStatus.ISSUED):
        committed[po.afe_line_id] = committed.get(po.afe_line_id, ZERO) + po.open_commitment
    return {"actual": actual, "committed": committed}


def afe_report(afe: AFE) -> dict:
    """Estimate vs committed vs actual, with variance (estimate - committed - actual), per line and in total."""
    figures = _line_figures(afe)
    rows = []
    totals = {"estimate": ZERO, "committed": ZERO, "actual": ZERO}
    for line in afe.lines.order_by("category"):
        actual = figures["actual"].get(line.pk) or ZERO
        committed = figures["committed"].get(line.pk) or ZERO
        rows.append({"line": str(line.pk), "category": line.category, "description": line.description,
                     "cost_class": line.cost_class, "estimate": line.estimate, "committed": committed,
                     "actual": actual, "variance": line.estimate - committed - actual})
        totals["estimate"] += line.estimate
        totals["committed"] += committed
        totals["actual"] += actual
    totals["variance"] = totals["estimate"] - totals["committed"] - totals["actual"]
    approved = afe.approved_amount
    spent = totals["committed"] + totals["actual"]
    share = (spent / approved * 100).quantize(Decimal("0.1")) if approved else None
    return {
        "afe": str(afe.pk), "number": afe.number, "status": afe.status, "approved_amount": approved,
        "supplements": afe.supplements.filter(status=SupplementStatus.APPROVED).aggregate(s=Sum("amount"))["s"]
        or ZERO,
        "lines": rows, "totals": totals, "spent_percent": share,
        "warning_percent": afe.effective_warning_percent,
        "warning": bool(share is not None and share >= afe.effective_warning_percent),
    }


def check_afe_warning(afe: AFE) -> bool:
    """Notify the AFE owner (else the field's supervisors) once when actual + committed passes the warning share."""
    report = afe_report(afe)
    if not report["warning"] or afe.warned_at is not None:
        return report["warning"]
    afe.warned_at = timezone.now()
    afe.save(update_fields=["warned_at"])
    from apps.core.services import notify

    subject = f"AFE {afe.number} at {report['spent_percent']}% of its approved amount"
    body = (f"Actual {report['totals']['actual']} + committed {report['totals']['committed']} against approved "
            f"{afe.approved_amount} (warning at {afe.effective_warning_percent}%).")
    link = f"/finance/afes/{afe.pk}/"
    if afe.owner_id:
        notify([afe.owner], subject, body, link, Severity.WARNING)
    else:
        notify(None, subject, body, link, Severity.WARNING, role="supervisor", field=afe.site.field.code)
    return True


# -- purchasing -------------------------------------------------------------------------------------------------------
def issue_po(po: PurchaseOrder) -> PurchaseOrder:
    """DRAFT -> ISSUED: the order becomes a commitment against its approved AFE line or active cost centre."""
    with transaction.atomic():
        po = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
        if po.status != POStatus.DRAFT:
            raise ValidationError({"status": "Only a draft order can be issued."})
        _validate_target(po.afe_line, po.cost_center)
        po.issued_at = timezone.now()
        _transition(po, "status", POStatus.ISSUED)
        if po.afe_line_id:
            check_afe_warning(po.afe_line.afe)
        return po


def close_po(po: PurchaseOrder) -> PurchaseOrder:
    with transaction.atomic():
        po = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
        if po.status != POStatus.ISSUED:
            raise ValidationError({"status": "Only an issued order can be closed."})
        _transition(po, "status", POStatus.CLOSED)
        return po


def cancel_po(po: PurchaseOrder) -> PurchaseOrder:
    with transaction.atomic():
        po = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
        if po.status not in (POStatus.DRAFT, POStatus.ISSUED):
            raise ValidationError({"status": "Only a draft or issued order can be cancelled."})
        if po.invoices.filter(status=InvoiceStatus.POSTED).exists():
            raise ValidationError({"status": "An order with posted invoices cannot be cancelled; close it."})
        _transition(po, "status", POStatus.CANCELLED)
        return po


def post_invoice(invoice: Invoice) -> Invoice:
    """ENTERED -> POSTED: matched to its issued PO (amount within the remaining order amount + tolerance), then booked
    as an actual cost (source ``invoice``) on the PO's AFE line or cost centre."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        po = PurchaseOrder.objects.select_for_update().get(pk=invoice.purchase_order_id)
        if invoice.status != InvoiceStatus.ENTERED:
            raise ValidationError({"status": "This invoice is already posted."})
        if po.status != POStatus.ISSUED:
            raise ValidationError({"purchase_order": f"PO {po.number} is {po.get_status_display()}, not issued."})
        tolerance = po.amount * Decimal(settings.FINANCE_INVOICE_TOLERANCE_PERCENT) / 100
        remaining = po.amount - po.invoiced
        if invoice.amount > remaining + tolerance:
            raise ValidationError({"amount": f"Invoice {invoice.amount} exceeds what remains on PO {po.number} "
                                             f"({remaining})."})
        # Posted first, so the commitment it consumes is no longer counted when book_cost checks the warning share.
        _transition(invoice, "status", InvoiceStatus.POSTED, f"matched to PO {po.number}")
        book_cost(CostSource.INVOICE, invoice.pk, invoice.amount, afe_line=po.afe_line, cost_center=po.cost_center,
                  date=invoice.invoice_date, description=f"{invoice.vendor.code} invoice {invoice.number}")
        return invoice
