from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from apps.finance.choices import CostSource
from apps.finance.models import (
    AFE,
    Account,
    AFELine,
    AFEPartner,
    AFESupplement,
    CostCenter,
    CostEntry,
    Invoice,
    JournalEntry,
    JournalLine,
    PurchaseOrder,
    Vendor,
)

TS = ["created_at", "updated_at"]


class AccountSerializer(ScopedModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "code", "name", "account_type", "active", *TS]
        read_only_fields = TS


class CostCenterSerializer(ScopedModelSerializer):
    class Meta:
        model = CostCenter
        fields = ["id", "site", "code", "name", "account", "active", *TS]
        read_only_fields = TS


class JournalLineSerializer(ScopedModelSerializer):
    class Meta:
        model = JournalLine
        fields = ["id", "account", "debit", "credit", "description", "cost_center", "afe_line"]

    def validate(self, attrs):
        debit, credit = attrs.get("debit") or 0, attrs.get("credit") or 0
        if (debit > 0) == (credit > 0):
            raise serializers.ValidationError({"debit": "A line is either a debit or a credit (one positive amount)."})
        return attrs


class JournalEntrySerializer(ScopedModelSerializer):
    lines = JournalLineSerializer(many=True)
    total_debit = serializers.SerializerMethodField()
    total_credit = serializers.SerializerMethodField()

    class Meta:
        model = JournalEntry
        fields = ["id", "site", "date", "memo", "status", "posted_at", "reverses", "source_type", "source_id",
                  "lines", "total_debit", "total_credit", *TS]
        read_only_fields = ["status", "posted_at", "reverses", "source_type", "source_id", *TS]

    def get_total_debit(self, obj):
        return str(obj.totals()[0])

    def get_total_credit(self, obj):
        return str(obj.totals()[1])

    def validate_lines(self, value):
        if self.instance is None and len(value) < 2:
            raise serializers.ValidationError("An entry needs at least one debit and one credit line.")
        return value

    def update(self, instance, validated_data):
        validated_data.pop("lines", None)  # lines of a draft are replaced only by recreating the draft
        return super().update(instance, validated_data)


class AFELineSerializer(ScopedModelSerializer):
    class Meta:
        model = AFELine
        fields = ["id", "afe", "category", "description", "cost_class", "estimate", "account", *TS]
        read_only_fields = TS


class AFEPartnerSerializer(ScopedModelSerializer):
    class Meta:
        model = AFEPartner
        fields = ["id", "afe", "partner", "working_interest", *TS]
        read_only_fields = TS


class AFESerializer(ScopedModelSerializer):
    estimate = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = AFE
        fields = ["id", "site", "well", "number", "title", "afe_type", "status", "owner", "estimate",
                  "approved_amount", "warning_percent", "submitted_at", "decided_at", "decided_by", "decision_note",
                  "warned_at", *TS]
        read_only_fields = ["status", "approved_amount", "submitted_at", "decided_at", "decided_by", "decision_note",
                            "warned_at", *TS]


class AFESupplementSerializer(ScopedModelSerializer):
    class Meta:
        model = AFESupplement
        fields = ["id", "afe", "amount", "reason", "status", "decided_at", "decided_by", *TS]
        read_only_fields = ["status", "decided_at", "decided_by", *TS]


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CostEntrySerializer(ScopedModelSerializer):
    source_type = serializers.ChoiceField(choices=CostSource.choices, required=False)
    source_id = serializers.CharField(max_length=64, required=False)

    class Meta:
        model = CostEntry
        fields = ["id", "site", "date", "amount", "afe_line", "cost_center", "source_type", "source_id",
                  "description", "journal_entry", *TS]
        read_only_fields = ["site", "journal_entry", *TS]
        extra_kwargs = {"date": {"required": False}}

    def get_validators(self):
        return []  # once per source is enforced by services.book_cost (idempotent) and the database

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple) and hasattr(self.instance, "pk"):
            # A booked cost is corrected by re-booking its source, not edited: only the description changes.
            for name in ("date", "amount", "afe_line", "cost_center", "source_type", "source_id"):
                fields[name].read_only = True
        return fields


class VendorSerializer(ScopedModelSerializer):
    class Meta:
        model = Vendor
        fields = ["id", "code", "name", "email", "active", *TS]
        read_only_fields = TS


class PurchaseOrderSerializer(ScopedModelSerializer):
    invoiced = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    open_commitment = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = ["id", "site", "vendor", "number", "description", "amount", "afe_line", "cost_center", "status",
                  "issued_at", "invoiced", "open_commitment", *TS]
        read_only_fields = ["status", "issued_at", *TS]


class InvoiceSerializer(ScopedModelSerializer):
    class Meta:
        model = Invoice
        fields = ["id", "site", "vendor", "purchase_order", "number", "invoice_date", "amount", "status", *TS]
        read_only_fields = ["status", *TS]
