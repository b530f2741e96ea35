"""The generic per-role API contract for the maintenance endpoints."""

import datetime as dt

import pytest

from apps.core.rbac import ROLES
from apps.core.testing import allowed
from apps.maintenance import models as m
from apps.maintenance import services
from tests.finance.contract import FastApiContract as ApiContract
from tests.finance.factories import make_cost_center
from tests.inventory.factories import stocked
from tests.maintenance.factories import make_equipment, make_work_order


def _site(world, in_scope):
    return world.site_a if in_scope else world.site_b


class TestEquipmentApi(ApiContract):
    endpoint = "/api/v1/maintenance/equipment/"
    model = m.Equipment
    invalid_field = "equipment_class"

    def make(self, world, in_scope=True):
        return make_equipment(_site(world, in_scope))

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "tag_number": "K-100", "name": "Gas compressor",
                "equipment_class": "compressor", "criticality": "A", "manufacturer": "Acme"}

    def update_payload(self, world, obj):
        return {"name": "Booster pump"}

    def invalid_payload(self, world):
        return {"site": str(world.site_a.pk), "tag_number": "X-1", "name": "x", "equipment_class": "teleporter"}


class TestWorkOrderApi(ApiContract):
    endpoint = "/api/v1/maintenance/work-orders/"
    model = m.WorkOrder
    invalid_field = "failure_mode"

    def make(self, world, in_scope=True):
        return make_work_order(_site(world, in_scope))

    def create_payload(self, world):
        return {"equipment": str(make_equipment(world.site_a).pk), "title": "Bearing noise", "kind": "corrective",
                "priority": "2"}

    def update_payload(self, world, obj):
        return {"title": "Bearing noise (NDE)"}

    def invalid_payload(self, world):
        return {"equipment": str(make_equipment(world.site_a).pk), "title": "PM", "kind": "preventive",
                "failure_mode": "VIB"}

    def test_delete_refused_once_planned(self, world, api_for):
        wo = services.plan_work_order(make_work_order(world.site_a))
        r = api_for("admin").delete(self.detail(wo))
        self.assert_envelope(r, 409, "conflict")


class TestPreventivePlanApi(ApiContract):
    endpoint = "/api/v1/maintenance/pm-plans/"
    model = m.PreventivePlan
    invalid_field = "interval_days"

    def make(self, world, in_scope=True):
        return m.PreventivePlan.objects.create(equipment=make_equipment(_site(world, in_scope)), name="Monthly",
                                               trigger="calendar", interval_days=30, start_date=dt.date(2026, 1, 1))

    def create_payload(self, world):
        return {"equipment": str(make_equipment(world.site_a).pk), "name": "Oil change", "trigger": "run_hours",
                "interval_hours": "500", "start_date": "2026-01-01"}

    def update_payload(self, world, obj):
        return {"name": "Monthly inspection"}

    def invalid_payload(self, world):
        return {"equipment": str(make_equipment(world.site_a).pk), "name": "x", "trigger": "calendar",
                "start_date": "2026-01-01"}


class TestWorkOrderPartApi(ApiContract):
    endpoint = "/api/v1/maintenance/work-order-parts/"
    model = m.WorkOrderPart
    invalid_field = "quantity"

    def _wo_with_stock(self, site, quantity=5):
        wo = make_work_order(site, cost_center=make_cost_center(site))
        item, location = stocked(site, quantity)
        return wo, item, location

    def make(self, world, in_scope=True):
        wo, item, location = self._wo_with_stock(_site(world, in_scope))
        return services.add_part(wo, item, location, 2)

    def create_payload(self, world):
        wo, item, location = self._wo_with_stock(world.site_a)
        return {"work_order": str(wo.pk), "item": str(item.pk), "location": str(location.pk), "quantity": "2"}

    def update_payload(self, world, obj):
        return {"quantity": "1"}

    @pytest.mark.parametrize("role", ROLES)
    def test_update(self, role, world, api_for):
        """Nothing of a part changes after it is reserved (quantity is read-only): 200 with no change, or 403."""
        obj = self.make(world, True)
        response = api_for(role).patch(self.detail(obj), {"quantity": "1"}, format="json")
        assert response.status_code == (200 if allowed(self.model, role, "change") else 403)
        obj.refresh_from_db()
        assert obj.quantity == 2

    test_out_of_scope_change_is_404 = None

    def invalid_payload(self, world):
        wo, item, location = self._wo_with_stock(world.site_a, quantity=1)
        return {"work_order": str(wo.pk), "item": str(item.pk), "location": str(location.pk), "quantity": "3"}
