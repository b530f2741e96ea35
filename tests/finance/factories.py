"""Small builders shared by the ERP business tests (finance, inventory, maintenance, hr, flows)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from apps.finance import services
from apps.finance.choices import AFEType
from apps.finance.models import AFE, AFELine, AFEPartner, CostCenter, Vendor

_seq = itertools.count(1)


def n() -> int:
    return next(_seq)


def make_afe(site, *, approve_as=None, estimate=Decimal("100000"), categories=("RIG",), owner=None,
             afe_type=AFEType.DRILL, well=None) -> AFE:
    """An AFE with one line per category (``estimate`` each) and one 100 % partner; approved if ``approve_as`` (a
    user allowed to approve) is given."""
    afe = AFE.objects.create(site=site, number=f"AFE-{n():05d}", title="Test AFE", afe_type=afe_type, owner=owner,
                             well=well)
    for category in categories:
        AFELine.objects.create(afe=afe, category=category, estimate=estimate)
    AFEPartner.objects.create(afe=afe, partner="Operator Co", working_interest=Decimal("100"))
    if approve_as is not None:
        services.submit_afe(afe)
        services.approve_afe(afe, approve_as)
        afe.refresh_from_db()
    return afe


def make_cost_center(site) -> CostCenter:
    return CostCenter.objects.create(site=site, code=f"CC-{n()}", name="Lease operating")


def make_vendor() -> Vendor:
    return Vendor.objects.create(code=f"V{n()}", name="Vendor")
