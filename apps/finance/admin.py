from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.finance import models as m

RO = ScopedAdmin.readonly_fields


class JournalLineInline(admin.TabularInline):
    model = m.JournalLine
    extra = 0
    fields = ["account", "debit", "credit", "description", "cost_center", "afe_line"]


class AFELineInline(admin.TabularInline):
    model = m.AFELine
    extra = 0
    fields = ["category", "description", "cost_class", "estimate", "account"]


class AFEPartnerInline(admin.TabularInline):
    model = m.AFEPartner
    extra = 0


class AFESupplementInline(admin.TabularInline):
    model = m.AFESupplement
    extra = 0
    fields = ["amount", "reason", "status"]
    readonly_fields = ["status"]


@admin.register(m.Account)
class AccountAdmin(ScopedAdmin):
    list_display = ["code", "name", "account_type", "active"]
    search_fields = ["code", "name"]
    list_filter = ["account_type", "active"]


@admin.register(m.CostCenter)
class CostCenterAdmin(ScopedAdmin):
    list_display = ["code", "name", "site", "active"]
    search_fields = ["code", "name"]
    list_filter = ["active", "site__field"]


@admin.register(m.JournalEntry)
class JournalEntryAdmin(ScopedAdmin):
    list_display = ["date", "memo", "site", "status", "posted_at", "source_type"]
    search_fields = ["memo", "source_id"]
    list_filter = ["status", "source_type", "site__field"]
    readonly_fields = (*RO, "status", "posted_at", "reverses")
    inlines = [JournalLineInline]


@admin.register(m.AFE)
class AFEAdmin(ScopedAdmin):
    list_display = ["number", "title", "site", "well", "afe_type", "status", "approved_amount"]
    search_fields = ["number", "title"]
    list_filter = ["status", "afe_type", "site__field"]
    readonly_fields = (*RO, "status", "approved_amount", "submitted_at", "decided_at", "decided_by", "warned_at")
    inlines = [AFELineInline, AFEPartnerInline, AFESupplementInline]


@admin.register(m.AFELine)
class AFELineAdmin(ScopedAdmin):
    list_display = ["afe", "category", "cost_class", "estimate"]
    search_fields = ["category", "description", "afe__number"]
    list_filter = ["cost_class"]


@admin.register(m.AFEPartner)
class AFEPartnerAdmin(ScopedAdmin):
    list_display = ["afe", "partner", "working_interest"]
    search_fields = ["partner", "afe__number"]


@admin.register(m.AFESupplement)
class AFESupplementAdmin(ScopedAdmin):
    list_display = ["afe", "amount", "status", "decided_at"]
    search_fields = ["afe__number", "reason"]
    list_filter = ["status"]


@admin.register(m.CostEntry)
class CostEntryAdmin(ScopedAdmin):
    list_display = ["date", "amount", "source_type", "source_id", "afe_line", "cost_center", "site"]
    search_fields = ["source_id", "description"]
    list_filter = ["source_type", "site__field"]
    readonly_fields = (*RO, "journal_entry")


@admin.register(m.Vendor)
class VendorAdmin(ScopedAdmin):
    list_display = ["code", "name", "email", "active"]
    search_fields = ["code", "name"]
    list_filter = ["active"]


class InvoiceInline(admin.TabularInline):
    model = m.Invoice
    extra = 0
    fields = ["number", "invoice_date", "amount", "status"]
    readonly_fields = ["status"]


@admin.register(m.PurchaseOrder)
class PurchaseOrderAdmin(ScopedAdmin):
    list_display = ["number", "vendor", "site", "amount", "status", "afe_line", "cost_center"]
    search_fields = ["number", "description", "vendor__name"]
    list_filter = ["status", "site__field"]
    readonly_fields = (*RO, "status", "issued_at")
    inlines = [InvoiceInline]


@admin.register(m.Invoice)
class InvoiceAdmin(ScopedAdmin):
    list_display = ["number", "vendor", "purchase_order", "invoice_date", "amount", "status"]
    search_fields = ["number", "vendor__name"]
    list_filter = ["status"]
    readonly_fields = (*RO, "status")
