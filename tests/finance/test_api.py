"""The generic per-role API contract for every finance endpoint."""

from decimal import Decimal

import pytest

from apps.finance import models as m
from apps.finance import services
from tests.finance.contract import FastApiContract as ApiContract
from tests.finance.factories import make_afe, make_cost_center, make_vendor, n


def _site(world, in_scope):
    return world.site_a if in_scope else world.site_b


def _admin():
    from apps.accounts.services import create_or_update_user

    user, _ = create_or_update_user("finance-approver", "admin")
    return user


class TestAccountApi(ApiContract):
    endpoint = "/api/v1/finance/accounts/"
    model = m.Account
    scoped = False
    invalid_field = "account_type"

    def make(self, world, in_scope=True):
        return m.Account.objects.create(code=f"9{n()}", name="Test", account_type="expense")

    def create_payload(self, world):
        return {"code": "7777", "name": "Rentals", "account_type": "expense"}

    def update_payload(self, world, obj):
        return {"name": obj.name + " (renamed)"}

    def invalid_payload(self, world):
        return {"code": "7778", "name": "x", "account_type": "bogus"}


class TestCostCenterApi(ApiContract):
    endpoint = "/api/v1/finance/cost-centers/"
    model = m.CostCenter
    invalid_field = "site"

    def make(self, world, in_scope=True):
        return make_cost_center(_site(world, in_scope))

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "code": "CC-NEW", "name": "New"}

    def update_payload(self, world, obj):
        return {"name": "Renamed"}

    def invalid_payload(self, world):
        return {"code": "CC-BAD", "name": "x"}  # no site


class TestJournalEntryApi(ApiContract):
    endpoint = "/api/v1/finance/journal-entries/"
    model = m.JournalEntry
    invalid_field = "lines"

    def _lines(self):
        cash = services.system_account("payable")
        opex = services.system_account("opex")
        return cash, opex

    def make(self, world, in_scope=True):
        cash, opex = self._lines()
        return services.create_journal(_site(world, in_scope), "2026-01-05", "draft", [
            {"account": opex, "debit": 10}, {"account": cash, "credit": 10}], post=False)

    def create_payload(self, world):
        cash, opex = self._lines()
        return {"site": str(world.site_a.pk), "date": "2026-01-05", "memo": "Accrual",
                "lines": [{"account": str(opex.pk), "debit": "25.00"}, {"account": str(cash.pk), "credit": "25.00"}]}

    def update_payload(self, world, obj):
        return {"memo": "corrected memo"}

    def invalid_payload(self, world):
        cash, _ = self._lines()
        return {"site": str(world.site_a.pk), "date": "2026-01-05", "lines": [{"account": str(cash.pk),
                                                                               "credit": "1"}]}


class TestAFEApi(ApiContract):
    endpoint = "/api/v1/finance/afes/"
    model = m.AFE
    invalid_field = "afe_type"

    def make(self, world, in_scope=True):
        return make_afe(_site(world, in_scope))

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "number": "AFE-API-1", "title": "Drill W9", "afe_type": "drill"}

    def update_payload(self, world, obj):
        return {"title": "Drill W9 (sidetrack)"}

    def invalid_payload(self, world):
        return {"site": str(world.site_a.pk), "number": "AFE-API-2", "title": "x", "afe_type": "space"}

    def make_deletable(self, world):
        return m.AFE.objects.create(site=world.site_a, number=f"AFE-D{n()}", title="x", afe_type="drill")


class TestAFELineApi(ApiContract):
    endpoint = "/api/v1/finance/afe-lines/"
    model = m.AFELine
    invalid_field = "estimate"

    def make(self, world, in_scope=True):
        return make_afe(_site(world, in_scope)).lines.get()

    def make_deletable(self, world):
        return m.AFELine.objects.create(afe=make_afe(world.site_a), category="EXTRA", estimate=1)

    def create_payload(self, world):
        return {"afe": str(make_afe(world.site_a).pk), "category": "MUD", "estimate": "2500.00"}

    def update_payload(self, world, obj):
        return {"estimate": "123.00"}

    def invalid_payload(self, world):
        return {"afe": str(make_afe(world.site_a).pk), "category": "MUD", "estimate": "-5"}


class TestAFEPartnerApi(ApiContract):
    endpoint = "/api/v1/finance/afe-partners/"
    model = m.AFEPartner
    invalid_field = "working_interest"

    def make(self, world, in_scope=True):
        return make_afe(_site(world, in_scope)).partners.get()

    def create_payload(self, world):
        afe = make_afe(world.site_a)
        afe.partners.all().delete()
        return {"afe": str(afe.pk), "partner": "Partner B", "working_interest": "25.5"}

    def update_payload(self, world, obj):
        return {"partner": "Renamed partner"}

    def invalid_payload(self, world):
        # 100 % is already held by the operator: one more share would pass 100 %.
        return {"afe": str(make_afe(world.site_a).pk), "partner": "Greedy", "working_interest": "10"}


class TestAFESupplementApi(ApiContract):
    endpoint = "/api/v1/finance/afe-supplements/"
    model = m.AFESupplement
    invalid_field = "afe"

    def make(self, world, in_scope=True):
        afe = make_afe(_site(world, in_scope), approve_as=_admin())
        return m.AFESupplement.objects.create(afe=afe, amount=1000, reason="Extra casing")

    def create_payload(self, world):
        return {"afe": str(make_afe(world.site_a, approve_as=_admin()).pk), "amount": "5000", "reason": "Fishing"}

    def update_payload(self, world, obj):
        return {"reason": "Fishing job after stuck pipe"}

    def invalid_payload(self, world):
        return {"afe": str(make_afe(world.site_a).pk), "amount": "5000", "reason": "draft AFE"}


class TestCostEntryApi(ApiContract):
    endpoint = "/api/v1/finance/cost-entries/"
    model = m.CostEntry
    invalid_field = "afe_line"
    update_field = "description"

    def make(self, world, in_scope=True):
        return services.book_cost("manual", f"t{n()}", 100, cost_center=make_cost_center(_site(world, in_scope)))

    def create_payload(self, world):
        return {"amount": "250.00", "cost_center": str(make_cost_center(world.site_a).pk), "description": "Hotshot"}

    def update_payload(self, world, obj):
        return {"description": "Hot-shot trucking", "amount": "999"}

    def invalid_payload(self, world):
        afe = make_afe(world.site_a)  # a draft AFE: costs are refused
        return {"amount": "10", "afe_line": str(afe.lines.get().pk)}

    @pytest.mark.parametrize("role", ["admin", "supervisor"])
    def test_delete(self, role, world, api_for):
        """A booked cost is never deleted (409), whoever asks; other roles lack the permission."""
        obj = self.make(world, True)
        response = api_for(role).delete(self.detail(obj))
        if role == "admin":
            self.assert_envelope(response, 409, "conflict")
        else:
            self.assert_envelope(response, 403, "permission_denied")
        assert m.CostEntry.objects.filter(pk=obj.pk).exists()

    def test_amount_is_read_only(self, world, api_for):
        obj = self.make(world, True)
        api_for("supervisor").patch(self.detail(obj), {"amount": "1"}, format="json")
        obj.refresh_from_db()
        assert obj.amount == Decimal("100.00")


class TestVendorApi(ApiContract):
    endpoint = "/api/v1/finance/vendors/"
    model = m.Vendor
    scoped = False
    invalid_field = "email"

    def make(self, world, in_scope=True):
        return make_vendor()

    def create_payload(self, world):
        return {"code": "ACME", "name": "Acme Oilfield"}

    def update_payload(self, world, obj):
        return {"name": "Renamed"}

    def invalid_payload(self, world):
        return {"code": "BAD", "name": "x", "email": "not-an-email"}


class TestPurchaseOrderApi(ApiContract):
    endpoint = "/api/v1/finance/purchase-orders/"
    model = m.PurchaseOrder
    invalid_field = "afe_line"

    def make(self, world, in_scope=True):
        site = _site(world, in_scope)
        return m.PurchaseOrder.objects.create(site=site, vendor=make_vendor(), number=f"PO{n()}", description="Bits",
                                              amount=500, cost_center=make_cost_center(site))

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "vendor": str(make_vendor().pk), "number": "PO-NEW",
                "description": "Rental", "amount": "1200", "cost_center": str(make_cost_center(world.site_a).pk)}

    def update_payload(self, world, obj):
        return {"description": "Rental tools"}

    def invalid_payload(self, world):
        return {"site": str(world.site_a.pk), "vendor": str(make_vendor().pk), "number": "PO-BAD",
                "description": "nothing to charge", "amount": "10"}


class TestInvoiceApi(ApiContract):
    endpoint = "/api/v1/finance/invoices/"
    model = m.Invoice
    invalid_field = "purchase_order"

    def _po(self, site):
        return m.PurchaseOrder.objects.create(site=site, vendor=make_vendor(), number=f"PO{n()}", description="x",
                                              amount=500, cost_center=make_cost_center(site))

    def make(self, world, in_scope=True):
        po = self._po(_site(world, in_scope))
        return m.Invoice.objects.create(site=po.site, vendor=po.vendor, purchase_order=po, number=f"I{n()}",
                                        invoice_date="2026-01-10", amount=100)

    def create_payload(self, world):
        po = self._po(world.site_a)
        return {"site": str(po.site_id), "vendor": str(po.vendor_id), "purchase_order": str(po.pk), "number": "I-1",
                "invoice_date": "2026-01-10", "amount": "100"}

    def update_payload(self, world, obj):
        return {"number": obj.number + "A"}

    def invalid_payload(self, world):
        po = self._po(world.site_a)
        return {"site": str(po.site_id), "vendor": str(make_vendor().pk), "purchase_order": str(po.pk),
                "number": "I-2", "invoice_date": "2026-01-10", "amount": "100"}
