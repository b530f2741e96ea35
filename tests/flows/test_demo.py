"""The ERP demo loader is idempotent and produces what the issue lists."""

from io import StringIO

import pytest

from apps.core.demo import seed_core
from apps.finance.models import AFE, CostEntry, JournalEntry
from apps.hr.models import Certificate, CrewAssignment, Employee
from apps.inventory.models import StockBalance, StockMove, Warehouse
from apps.inventory.services import verify_balances
from apps.maintenance.demo import seed_erp
from apps.maintenance.models import Equipment, PreventivePlan, WorkOrder

pytestmark = pytest.mark.django_db

MODELS = [AFE, CostEntry, JournalEntry, Employee, Certificate, CrewAssignment, Warehouse, StockMove, StockBalance,
          Equipment, WorkOrder, PreventivePlan]


def test_seed_erp_twice_changes_nothing():
    out = StringIO()
    seed_core(out)
    seed_erp(out)
    first = {m.__name__: m.objects.count() for m in MODELS}
    seed_erp(out)
    assert {m.__name__: m.objects.count() for m in MODELS} == first
    assert AFE.objects.get(number="AFE-2026-D01").status == "approved"
    assert Warehouse.objects.count() == 2 and StockBalance.objects.filter(quantity__gt=0).count() >= 7
    assert WorkOrder.objects.filter(status="closed").exists() and WorkOrder.objects.filter(status="open").exists()
    assert WorkOrder.objects.filter(kind="preventive").exists()  # the run-hours plan of K-100 is due
    assert Employee.objects.count() == 6 and CrewAssignment.objects.count() == 5
    assert verify_balances() == []
    for entry in JournalEntry.objects.all():
        debit, credit = entry.totals()
        assert debit == credit
