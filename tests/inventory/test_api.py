"""The generic per-role API contract for the inventory endpoints."""

import pytest

from apps.core.rbac import ROLES
from apps.core.testing import allowed
from apps.inventory import models as m
from apps.inventory import services
from tests.finance.contract import FastApiContract as ApiContract
from tests.finance.factories import make_cost_center, n
from tests.inventory.factories import make_item, make_location, stocked


def _site(world, in_scope):
    return world.site_a if in_scope else world.site_b


class TestItemApi(ApiContract):
    endpoint = "/api/v1/inventory/items/"
    model = m.Item
    scoped = False
    invalid_field = "uom"

    def make(self, world, in_scope=True):
        return make_item()

    def create_payload(self, world):
        return {"sku": "BRG-6205", "description": "Bearing 6205", "uom": "ea", "reorder_point": "4"}

    def update_payload(self, world, obj):
        return {"description": "Bearing 6205-2RS"}

    def invalid_payload(self, world):
        return {"sku": "X", "description": "x", "uom": "furlong"}


class TestWarehouseApi(ApiContract):
    endpoint = "/api/v1/inventory/warehouses/"
    model = m.Warehouse
    invalid_field = "kind"

    def make(self, world, in_scope=True):
        return m.Warehouse.objects.create(site=_site(world, in_scope), code=f"W{n()}", name="Store")

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "code": "RIG-STORE", "name": "Rig store", "kind": "rig_store"}

    def update_payload(self, world, obj):
        return {"name": "Main store"}

    def invalid_payload(self, world):
        return {"site": str(world.site_a.pk), "code": "BAD", "name": "x", "kind": "cave"}


class TestLocationApi(ApiContract):
    endpoint = "/api/v1/inventory/locations/"
    model = m.Location
    invalid_field = "warehouse"

    def make(self, world, in_scope=True):
        return make_location(_site(world, in_scope), code=f"B{n()}")

    def create_payload(self, world):
        return {"warehouse": str(make_location(world.site_a).warehouse_id), "code": "Z-99"}

    def update_payload(self, world, obj):
        return {"description": "Top shelf"}

    def invalid_payload(self, world):
        return {"code": "Z-1"}  # no warehouse


class TestStockMoveApi(ApiContract):
    endpoint = "/api/v1/inventory/moves/"
    model = m.StockMove
    invalid_field = "from_location"
    update_field = "reference"

    def make(self, world, in_scope=True):
        item, location = stocked(_site(world, in_scope), 5)
        return m.StockMove.objects.get(item=item)

    def create_payload(self, world):
        return {"move_type": "receipt", "item": str(make_item().pk), "to_location":
                str(make_location(world.site_a).pk), "quantity": "3", "unit_cost": "12.50", "reference": "DT-1"}

    def update_payload(self, world, obj):
        return {"reference": "DT-corrected", "quantity": "999"}

    def invalid_payload(self, world):
        return {"move_type": "issue", "item": str(make_item().pk), "quantity": "1",
                "cost_center": str(make_cost_center(world.site_a).pk)}

    @pytest.mark.parametrize("role", ROLES)
    def test_delete(self, role, world, api_for):
        obj = self.make(world, True)
        response = api_for(role).delete(self.detail(obj))
        if allowed(self.model, role, "delete"):
            self.assert_envelope(response, 409, "conflict")
        else:
            self.assert_envelope(response, 403, "permission_denied")
        assert m.StockMove.objects.filter(pk=obj.pk).exists()

    def test_quantity_is_immutable(self, world, api_for):
        obj = self.make(world, True)
        api_for("operator").patch(self.detail(obj), {"quantity": "1"}, format="json")
        obj.refresh_from_db()
        assert obj.quantity == 5


class TestReservationApi(ApiContract):
    endpoint = "/api/v1/inventory/reservations/"
    model = m.Reservation
    invalid_field = "quantity"
    update_field = "reference"

    def make(self, world, in_scope=True):
        item, location = stocked(_site(world, in_scope), 5)
        return services.reserve(item, location, 2, "WO-1")

    def create_payload(self, world):
        item, location = stocked(world.site_a, 5)
        return {"item": str(item.pk), "location": str(location.pk), "quantity": "2", "reference": "WO-9"}

    def update_payload(self, world, obj):
        return {"reference": "WO-10"}

    def invalid_payload(self, world):
        item, location = stocked(world.site_a, 1)
        return {"item": str(item.pk), "location": str(location.pk), "quantity": "2"}


class TestStockBalanceApi(ApiContract):
    endpoint = "/api/v1/inventory/balances/"
    model = m.StockBalance
    invalid_field = "non_field_errors"

    def make(self, world, in_scope=True):
        item, location = stocked(_site(world, in_scope), 5)
        return m.StockBalance.objects.get(item=item, location=location)

    def create_payload(self, world):
        item, location = stocked(world.site_a, 1)
        return {"item": str(item.pk), "location": str(location.pk), "quantity": "1000"}

    def update_payload(self, world, obj):
        return {"quantity": "1000"}

    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("method", ["post", "patch", "delete"])
    def test_create(self, role, method, world, api_for):
        """Balances are read-only for everyone: 403 for roles without the permission, 405 for the admin."""
        obj = self.make(world, True)
        client = api_for(role)
        url = self.endpoint if method == "post" else self.detail(obj)
        response = getattr(client, method)(url, self.create_payload(world), format="json")
        assert response.status_code == (405 if role == "admin" else 403)
        obj.refresh_from_db()
        assert obj.quantity == 5

    test_update = None
    test_delete = None
    test_validation_error_envelope = None
    test_out_of_scope_change_is_404 = None
