import uuid

from django.db import transaction
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.core.api.exceptions import Conflict
from apps.finance import services
from apps.finance.api import serializers as s
from apps.finance.choices import CostSource, JournalStatus
from apps.finance.filters import (
    AccountFilter,
    AFEFilter,
    AFELineFilter,
    AFEPartnerFilter,
    AFESupplementFilter,
    CostCenterFilter,
    CostEntryFilter,
    InvoiceFilter,
    JournalEntryFilter,
    PurchaseOrderFilter,
    VendorFilter,
)
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
    PurchaseOrder,
    Vendor,
)


class ServiceActionsMixin:
    """Runs a service on the (scoped, locked by the service) object and answers with its fresh representation."""

    def _run(self, func, *args, **kwargs):
        obj = self.get_object()
        result = func(obj, *args, **kwargs)
        return Response(self.get_serializer(result).data)


class AccountViewSet(ScopedModelViewSet):
    queryset = Account.objects.all()
    serializer_class = s.AccountSerializer
    filterset_class = AccountFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]


class CostCenterViewSet(ScopedModelViewSet):
    queryset = CostCenter.objects.select_related("site")
    serializer_class = s.CostCenterSerializer
    filterset_class = CostCenterFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]


class JournalEntryViewSet(ServiceActionsMixin, ScopedModelViewSet):
    """Draft entries are created with their lines and posted with ``post``; posted entries answer 409 to changes and
    are corrected with ``reverse``."""

    queryset = JournalEntry.objects.prefetch_related("lines")
    serializer_class = s.JournalEntrySerializer
    filterset_class = JournalEntryFilter
    search_fields = ["memo", "source_id"]
    ordering_fields = ["date", "created_at"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        lines = data.pop("lines")
        with transaction.atomic():
            entry = services.create_journal(data["site"], data["date"], data.get("memo", ""), lines, post=False)
            self._check_in_scope(entry)
        serializer.instance = entry

    def _refuse_posted(self, entry):
        if entry.status == JournalStatus.POSTED:
            raise Conflict("A posted journal entry is immutable; reverse it instead.")

    def perform_update(self, serializer):
        self._refuse_posted(serializer.instance)
        super().perform_update(serializer)

    def perform_destroy(self, instance):
        self._refuse_posted(instance)
        instance.delete()

    @action(detail=True, methods=["post"], rbac_action="change", url_path="post")
    def post_entry(self, request, pk=None):
        return self._run(services.post_entry)

    @action(detail=True, methods=["post"], rbac_action="change")
    def reverse(self, request, pk=None):
        entry = self.get_object()
        reversal = services.reverse_entry(entry, memo=request.data.get("memo", ""))
        return Response(self.get_serializer(reversal).data, status=201)


class AFEViewSet(ServiceActionsMixin, ScopedModelViewSet):
    queryset = AFE.objects.select_related("site", "well")
    serializer_class = s.AFESerializer
    filterset_class = AFEFilter
    search_fields = ["number", "title"]
    ordering_fields = ["number", "created_at"]

    def _note(self):
        ser = s.DecisionSerializer(data=self.request.data)
        ser.is_valid(raise_exception=True)
        return ser.validated_data["note"]

    @action(detail=True, methods=["post"], rbac_action="change")
    def submit(self, request, pk=None):
        return self._run(services.submit_afe, request.user)

    @action(detail=True, methods=["post"], rbac_action="approve")
    def approve(self, request, pk=None):
        return self._run(services.approve_afe, request.user, self._note())

    @action(detail=True, methods=["post"], rbac_action="approve")
    def reject(self, request, pk=None):
        return self._run(services.reject_afe, request.user, self._note())

    @action(detail=True, methods=["post"], rbac_action="change")
    def reopen(self, request, pk=None):
        return self._run(services.reopen_afe, request.user)

    @action(detail=True, methods=["get"], rbac_action="view")
    def report(self, request, pk=None):
        return Response(services.afe_report(self.get_object()))


class AFELineViewSet(ScopedModelViewSet):
    queryset = AFELine.objects.select_related("afe")
    serializer_class = s.AFELineSerializer
    filterset_class = AFELineFilter
    search_fields = ["category", "description"]
    ordering_fields = ["category"]


class AFEPartnerViewSet(ScopedModelViewSet):
    queryset = AFEPartner.objects.select_related("afe")
    serializer_class = s.AFEPartnerSerializer
    filterset_class = AFEPartnerFilter
    search_fields = ["partner"]


class AFESupplementViewSet(ServiceActionsMixin, ScopedModelViewSet):
    queryset = AFESupplement.objects.select_related("afe")
    serializer_class = s.AFESupplementSerializer
    filterset_class = AFESupplementFilter

    @action(detail=True, methods=["post"], rbac_action="approve")
    def approve(self, request, pk=None):
        return self._run(services.approve_supplement, request.user)

    @action(detail=True, methods=["post"], rbac_action="approve")
    def reject(self, request, pk=None):
        return self._run(services.reject_supplement, request.user)


class CostEntryViewSet(ScopedModelViewSet):
    """Costs are booked through ``services.book_cost`` (POST: a manual cost); a booked cost's amount and target are
    read-only, and it is never deleted (409): re-book its source or post a reversing cost."""

    queryset = CostEntry.objects.select_related("site", "afe_line__afe", "cost_center")
    serializer_class = s.CostEntrySerializer
    filterset_class = CostEntryFilter
    search_fields = ["description", "source_id"]
    ordering_fields = ["date", "amount"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        with transaction.atomic():
            entry = services.book_cost(
                data.get("source_type") or CostSource.MANUAL, data.get("source_id") or uuid.uuid4().hex,
                data["amount"], afe_line=data.get("afe_line"), cost_center=data.get("cost_center"),
                date=data.get("date"), description=data.get("description", ""))
            self._check_in_scope(entry)
        serializer.instance = entry

    def perform_destroy(self, instance):
        raise Conflict("A booked cost cannot be deleted; book a reversing (negative) cost instead.")


class VendorViewSet(ScopedModelViewSet):
    queryset = Vendor.objects.all()
    serializer_class = s.VendorSerializer
    filterset_class = VendorFilter
    search_fields = ["code", "name"]


class PurchaseOrderViewSet(ServiceActionsMixin, ScopedModelViewSet):
    queryset = PurchaseOrder.objects.select_related("vendor", "site")
    serializer_class = s.PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = ["number", "description"]

    @action(detail=True, methods=["post"], rbac_action="change")
    def issue(self, request, pk=None):
        return self._run(services.issue_po)

    @action(detail=True, methods=["post"], rbac_action="change")
    def close(self, request, pk=None):
        return self._run(services.close_po)

    @action(detail=True, methods=["post"], rbac_action="change")
    def cancel(self, request, pk=None):
        return self._run(services.cancel_po)


class InvoiceViewSet(ServiceActionsMixin, ScopedModelViewSet):
    queryset = Invoice.objects.select_related("vendor", "purchase_order")
    serializer_class = s.InvoiceSerializer
    filterset_class = InvoiceFilter
    search_fields = ["number"]

    @action(detail=True, methods=["post"], rbac_action="change", url_path="post")
    def post_invoice(self, request, pk=None):
        return self._run(services.post_invoice)
