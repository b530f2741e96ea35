"""Finance: chart of accounts and journals, cost centres, AFEs, actual costs, vendors, purchase orders, invoices.

State machines (transitions only in apps.finance.services):
- JournalEntry: DRAFT -> POSTED (balanced: debits equal credits). A posted entry is immutable; it is corrected by a
  reversing entry (``reverse_entry``), never edited or deleted.
- AFE: DRAFT -> SUBMITTED -> APPROVED | REJECTED (REJECTED -> DRAFT to rework). Approval is the ``approve`` rbac action
  and is limited by amount per role (settings.FINANCE_APPROVAL_LIMITS).
- AFESupplement: DRAFT -> APPROVED | REJECTED; an approved supplement raises the AFE's approved amount.
- PurchaseOrder: DRAFT -> ISSUED (a commitment) -> CLOSED; DRAFT|ISSUED -> CANCELLED.
- Invoice: ENTERED -> POSTED (matched to its PO, booked as a CostEntry with a journal entry).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum

from apps.core import rbac
from apps.core.models import BaseModel
from apps.core.permissions import FieldScope
from apps.finance.choices import (
    AccountType,
    AFEStatus,
    AFEType,
    CostClass,
    CostSource,
    InvoiceStatus,
    JournalStatus,
    POStatus,
    SupplementStatus,
)

MONEY = {"max_digits": 16, "decimal_places": 2}
ZERO = Decimal("0.00")
SITE_SCOPE = FieldScope("site__field__code", site="site__code")


class ImmutableError(ValidationError):
    """Raised when a posted record would be changed."""


# An account's primary key is derived from its code, so the same account has the same id on every box (edge and hub)
# however it was made: the system accounts the services create on first use (services.SYSTEM_ACCOUNTS), and an
# account an administrator makes with the same code on two boxes. Journal lines, AFE lines and cost centres synced
# from an edge then point at an account the hub has. Migration 0003 re-keyed the system accounts made before this
# (random ids) and must keep its own copy of the namespace: never change it.
ACCOUNT_NAMESPACE = uuid.UUID("0f6a3c52-2b8e-5d1f-9c47-acc0000c0de5")


def account_id(code: str) -> uuid.UUID:
    """The primary key of the account with ``code`` on every box."""
    return uuid.uuid5(ACCOUNT_NAMESPACE, code)


class Account(BaseModel):
    """An account of the chart of accounts (master data, not field scoped)."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    account_type = models.CharField(max_length=16, choices=AccountType.choices)
    active = models.BooleanField(default=True)

    rbac = rbac.SUPERVISOR_WRITES
    sync_direction = "down"  # apps.sync: chart of accounts is master data authored at the hub

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        # A new account takes the id derived from its code (see ACCOUNT_NAMESPACE), unless that id is already taken
        # (an account created with this code and since renamed keeps it: then this one gets a random id).
        if self._state.adding and self.code:
            derived = account_id(self.code)
            if self.pk != derived and not Account._base_manager.filter(pk=derived).exists():
                self.pk = derived
        super().save(*args, **kwargs)


class CostCenter(BaseModel):
    """Where operating costs are collected when no AFE applies (e.g. a site's lease operating expense)."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="cost_centers")
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="Expense account debited by costs booked here (default: settings).")
    active = models.BooleanField(default=True)

    scope = SITE_SCOPE
    sync_direction = "up"  # apps.sync: a site's cost centre, created at its edge (its account has the same id at
    # the hub: account ids derive from their code)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class JournalEntry(BaseModel):
    """A double-entry journal entry. See the module docstring for its state machine."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="journal_entries")
    date = models.DateField()
    memo = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=JournalStatus.choices, default=JournalStatus.DRAFT,
                              editable=False)
    posted_at = models.DateTimeField(null=True, blank=True, editable=False)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by", editable=False)
    source_type = models.CharField(max_length=20, blank=True)
    source_id = models.CharField(max_length=64, blank=True)

    scope = SITE_SCOPE
    # apps.sync: the edge's journal goes up. An entry travels as one record with its lines in the payload extras
    # (``sync_extras``), so the hub inserts a posted entry and its lines in one step and the ledger guards of
    # migration 0002 (posted = balanced, immutable) hold there at every check; lines are not synced on their own.
    # A draft travels as its header only: its lines may still change, and they travel once it is posted.
    sync_direction = "up"

    class Meta:
        ordering = ["-date", "-created_at"]
        verbose_name_plural = "journal entries"

    def __str__(self):
        return f"JE {self.date} {self.memo[:60]}"

    @property
    def is_posted(self) -> bool:
        snap = getattr(self, "_audit_snapshot", None) or {}
        return snap.get("status") == JournalStatus.POSTED

    def save(self, *args, **kwargs):
        if not self._state.adding and self.is_posted:
            raise ImmutableError("A posted journal entry cannot be changed; reverse it instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status == JournalStatus.POSTED or self.is_posted:
            raise ImmutableError("A posted journal entry cannot be deleted; reverse it instead.")
        return super().delete(*args, **kwargs)

    def totals(self) -> tuple[Decimal, Decimal]:
        agg = self.lines.aggregate(d=Sum("debit"), c=Sum("credit"))
        return agg["d"] or ZERO, agg["c"] or ZERO

    # -- sync hooks (apps/sync/registry.py) ----------------------------------------------------------------------------
    def sync_extras(self) -> dict:
        """A posted entry carries its lines (read from the database); a draft carries none."""
        if self.status != JournalStatus.POSTED:
            return {}
        return {"lines": list(JournalLine._base_manager.filter(entry_id=self.pk).order_by("pk")
                              .values(*SYNCED_LINE_FIELDS))}  # encoded with the payload (DjangoJSONEncoder)

    @classmethod
    def sync_apply_extras(cls, rows: dict) -> None:
        """At the hub, right after the entries' upsert: insert the lines of each posted entry (existing ones are kept:
        a posted line never changes). An entry whose lines here differ from the lines sent is refused."""
        from django.db.models import Count
        from django.db.models.constants import OnConflict

        from apps.sync.registry import Refused

        fields = [JournalLine._meta.get_field(name) for name in SYNCED_LINE_FIELDS]
        objs, sent = [], {}
        for pk, extras in rows.items():
            lines = extras.get("lines") if isinstance(extras, dict) else None
            if lines is None:
                continue
            if not isinstance(lines, list) or not lines:
                raise Refused(f"journal entry {pk}: _extras.lines must be a non-empty list")
            sent[str(pk)] = len(lines)
            for raw in lines:
                objs.append(JournalLine(entry_id=uuid.UUID(str(pk)), **_line_values(pk, raw, fields)))
        if not objs:
            return
        insert = [f for f in JournalLine._meta.concrete_fields if f.attname not in ("created_by_id", "updated_by_id")]
        # raw: the edge's timestamps are kept (like the sync applier's upserts); ignore: a line already here.
        JournalLine._base_manager._insert(objs, fields=insert, raw=True, on_conflict=OnConflict.IGNORE)
        held = dict(JournalLine._base_manager.filter(entry_id__in=list(sent)).order_by().values_list("entry_id")
                    .annotate(n=Count("id")).values_list("entry_id", "n"))
        wrong = [pk for pk, n in sent.items() if held.get(uuid.UUID(pk)) != n]
        if wrong:
            raise Refused(f"journal entry {wrong[0]}: the lines here differ from the lines sent")


class JournalLine(BaseModel):
    """One debit or one credit of a journal entry (never both)."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    debit = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    credit = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    description = models.CharField(max_length=200, blank=True)
    cost_center = models.ForeignKey(CostCenter, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    afe_line = models.ForeignKey("finance.AFELine", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope = FieldScope("entry__site__field__code", site="entry__site__code")
    audited = False  # the entry's audit row and its immutability cover its lines

    class Meta:
        ordering = ["entry", "-debit", "account__code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="finance_line_one_side",
            )
        ]

    def __str__(self):
        return f"{self.account.code} D{self.debit} C{self.credit}"

    def save(self, *args, **kwargs):
        if JournalEntry.objects.filter(pk=self.entry_id, status=JournalStatus.POSTED).exists():
            raise ImmutableError("Lines of a posted journal entry cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if JournalEntry.objects.filter(pk=self.entry_id, status=JournalStatus.POSTED).exists():
            raise ImmutableError("Lines of a posted journal entry cannot be deleted.")
        return super().delete(*args, **kwargs)


# The line columns a posted journal entry carries to the hub (JournalEntry.sync_extras); the acting users stay home.
SYNCED_LINE_FIELDS = ("id", "account_id", "debit", "credit", "description", "cost_center_id", "afe_line_id",
                      "created_at", "updated_at")


def _line_values(entry_pk, raw, fields) -> dict:
    """One line of ``_extras.lines`` as model values, validated like the sync applier validates a payload (foreign
    keys are left to the database constraints); refused with the reason when it is not a valid line."""
    from apps.sync.registry import Refused

    if not isinstance(raw, dict) or set(raw) != set(SYNCED_LINE_FIELDS):
        raise Refused(f"journal entry {entry_pk}: a line must have exactly the fields {', '.join(SYNCED_LINE_FIELDS)}")
    values, errors = {}, []
    for f in fields:
        try:
            value = f.to_python(raw[f.attname])
            if not f.is_relation and not (f.blank and value in f.empty_values):
                f.validate(value, None)
                f.run_validators(value)
        except ValidationError as exc:
            errors.append(f"{f.name}: {' '.join(exc.messages)}")
            continue
        values[f.attname] = value
    if errors:
        raise Refused(f"journal entry {entry_pk}: line {raw.get('id')}: {'; '.join(errors)}")
    return values


class AFE(BaseModel):
    """Authorisation for expenditure. See the module docstring for its state machine."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="afes")
    well = models.ForeignKey("wells.Well", null=True, blank=True, on_delete=models.PROTECT, related_name="afes")
    number = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    afe_type = models.CharField(max_length=12, choices=AFEType.choices)
    status = models.CharField(max_length=12, choices=AFEStatus.choices, default=AFEStatus.DRAFT, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_afes", help_text="Notified when spend passes the warning share.")
    approved_amount = models.DecimalField(**MONEY, default=ZERO, editable=False)
    warning_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text="Warn when actual + committed passes this % of the approved amount (default: setting).")
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    decision_note = models.TextField(blank=True, editable=False)
    warned_at = models.DateTimeField(null=True, blank=True, editable=False)

    scope = SITE_SCOPE
    rbac = {
        rbac.SUPERVISOR: ("view", "add", "change", "approve"),
        rbac.OPERATOR: rbac.READ,
        rbac.VIEWER: rbac.READ,
    }
    sync_direction = "up"  # apps.sync: raised and approved at the site's edge

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "AFE"
        verbose_name_plural = "AFEs"
        permissions = [("approve_afe", "Can approve or reject AFEs and supplements")]

    def __str__(self):
        return f"{self.number} {self.title}"

    def clean(self):
        if self.well_id and self.site_id and self.well.site_id != self.site_id:
            raise ValidationError({"well": "The well is not on the AFE's site."})

    @property
    def estimate(self) -> Decimal:
        return self.lines.aggregate(s=Sum("estimate"))["s"] or ZERO

    @property
    def effective_warning_percent(self) -> int:
        return self.warning_percent or settings.FINANCE_AFE_WARNING_PERCENT


class AFELine(BaseModel):
    """A line of an AFE by cost category; costs are booked against lines of approved AFEs."""

    afe = models.ForeignKey(AFE, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(max_length=32, help_text="Cost category code, e.g. RIG, MUD, CASING.")
    description = models.CharField(max_length=200, blank=True)
    cost_class = models.CharField(max_length=12, choices=CostClass.choices, default=CostClass.INTANGIBLE)
    estimate = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope = FieldScope("afe__site__field__code", site="afe__site__code")
    sync_direction = "up"  # apps.sync: goes up with its AFE, with its account (same id at the hub: see account_id)

    class Meta:
        ordering = ["afe", "category"]
        constraints = [models.UniqueConstraint(fields=["afe", "category"], name="finance_afeline_unique_category")]

    def __str__(self):
        return f"{self.afe.number}/{self.category}"

    def clean(self):
        if self.afe_id and self.afe.status != AFEStatus.DRAFT and (
            self._state.adding or (getattr(self, "_audit_snapshot", {}) or {}).get("estimate") != self.estimate
        ):
            raise ValidationError({"afe": "Lines can only be added or re-estimated while the AFE is a draft; "
                                          "use a supplement."})


class AFEPartner(BaseModel):
    """A partner's working interest in an AFE; shares must sum to 100 % before submission."""

    afe = models.ForeignKey(AFE, on_delete=models.CASCADE, related_name="partners")
    partner = models.CharField(max_length=120)
    working_interest = models.DecimalField(max_digits=7, decimal_places=4,
                                           validators=[MinValueValidator(Decimal("0.0001")),
                                                       MaxValueValidator(Decimal("100"))],
                                           help_text="Percent.")

    scope = FieldScope("afe__site__field__code", site="afe__site__code")
    sync_direction = "up"  # apps.sync: goes up with its AFE

    class Meta:
        ordering = ["afe", "-working_interest"]
        constraints = [models.UniqueConstraint(fields=["afe", "partner"], name="finance_afepartner_unique")]

    def __str__(self):
        return f"{self.partner} {self.working_interest}%"

    def clean(self):
        if self.afe_id and self.working_interest is not None:
            others = self.afe.partners.exclude(pk=self.pk).aggregate(s=Sum("working_interest"))["s"] or 0
            if others + self.working_interest > 100:
                raise ValidationError({"working_interest": f"Shares would total {others + self.working_interest}% "
                                                           "(more than 100%)."})


class AFESupplement(BaseModel):
    """A supplement raising an approved AFE's amount (approved with the same limits as the AFE)."""

    afe = models.ForeignKey(AFE, on_delete=models.CASCADE, related_name="supplements")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    reason = models.TextField()
    status = models.CharField(max_length=12, choices=SupplementStatus.choices, default=SupplementStatus.DRAFT,
                              editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)

    scope = FieldScope("afe__site__field__code", site="afe__site__code")
    rbac = {
        rbac.SUPERVISOR: ("view", "add", "change", "approve"),
        rbac.OPERATOR: rbac.READ,
        rbac.VIEWER: rbac.READ,
    }
    sync_direction = "up"  # apps.sync: goes up with its AFE

    class Meta:
        ordering = ["afe", "created_at"]
        permissions = [("approve_afesupplement", "Can approve or reject AFE supplements")]

    def __str__(self):
        return f"{self.afe.number} +{self.amount}"

    def clean(self):
        if self.afe_id and self._state.adding and self.afe.status != AFEStatus.APPROVED:
            raise ValidationError({"afe": "Supplements apply to approved AFEs only."})


class CostEntry(BaseModel):
    """An actual cost booked against an approved AFE line or an active cost centre (exactly one), created only by
    ``services.book_cost`` (idempotent per source) together with its balanced journal entry."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="cost_entries")
    date = models.DateField()
    amount = models.DecimalField(**MONEY)
    afe_line = models.ForeignKey(AFELine, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="cost_entries")
    cost_center = models.ForeignKey(CostCenter, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="cost_entries")
    source_type = models.CharField(max_length=20, choices=CostSource.choices)
    source_id = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    journal_entry = models.OneToOneField(JournalEntry, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="cost_entry", editable=False)

    scope = SITE_SCOPE
    sync_direction = "up"  # apps.sync: the actual cost booked at the edge against an AFE line or cost centre,
    # with the link to its journal entry (which syncs too)

    class Meta:
        ordering = ["-date", "-created_at"]
        verbose_name_plural = "cost entries"
        constraints = [
            models.UniqueConstraint(fields=["source_type", "source_id"], name="finance_cost_once_per_source"),
            models.CheckConstraint(
                condition=(Q(afe_line__isnull=False) & Q(cost_center__isnull=True))
                | (Q(afe_line__isnull=True) & Q(cost_center__isnull=False)),
                name="finance_cost_one_target",
            ),
        ]
        indexes = [models.Index(fields=["afe_line", "date"]), models.Index(fields=["cost_center", "date"])]

    def __str__(self):
        return f"{self.date} {self.amount} {self.source_type}"


class Vendor(BaseModel):
    """A supplier or service company (master data, not field scoped)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class PurchaseOrder(BaseModel):
    """A commitment to a vendor, charged to an AFE line or a cost centre. See the module docstring."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="purchase_orders")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="purchase_orders")
    number = models.CharField(max_length=32, unique=True)
    description = models.CharField(max_length=200)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    afe_line = models.ForeignKey(AFELine, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="purchase_orders")
    cost_center = models.ForeignKey(CostCenter, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="purchase_orders")
    status = models.CharField(max_length=12, choices=POStatus.choices, default=POStatus.DRAFT, editable=False)
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)

    scope = SITE_SCOPE

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"PO {self.number}"

    def clean(self):
        if bool(self.afe_line_id) == bool(self.cost_center_id):
            raise ValidationError({"afe_line": "Charge the order to exactly one AFE line or cost centre."})

    @property
    def invoiced(self) -> Decimal:
        return self.invoices.filter(status=InvoiceStatus.POSTED).aggregate(s=Sum("amount"))["s"] or ZERO

    @property
    def open_commitment(self) -> Decimal:
        if self.status != POStatus.ISSUED:
            return ZERO
        return max(self.amount - self.invoiced, ZERO)


class Invoice(BaseModel):
    """A vendor invoice, matched to an issued PO of the same vendor; posting it books the actual cost."""

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="invoices")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="invoices")
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=40)
    invoice_date = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    status = models.CharField(max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.ENTERED,
                              editable=False)

    scope = SITE_SCOPE

    class Meta:
        ordering = ["-invoice_date"]
        constraints = [models.UniqueConstraint(fields=["vendor", "number"], name="finance_invoice_unique_number")]

    def __str__(self):
        return f"INV {self.vendor_id and self.vendor.code} {self.number}"

    def clean(self):
        po = self.purchase_order if self.purchase_order_id else None
        if po is None:
            return
        if self.vendor_id and po.vendor_id != self.vendor_id:
            raise ValidationError({"purchase_order": "The order belongs to another vendor."})
        if self.site_id and po.site_id != self.site_id:
            raise ValidationError({"purchase_order": "The order belongs to another site."})
