from decimal import Decimal

from apps.inventory import services
from apps.inventory.models import Item, Location, Warehouse
from tests.finance.factories import n


def make_item(**kw) -> Item:
    defaults = {"sku": f"SKU-{n()}", "description": "Mechanical seal", "uom": "ea"}
    defaults.update(kw)
    return Item.objects.create(**defaults)


def make_location(site, code="A-01") -> Location:
    warehouse = Warehouse.objects.create(site=site, code=f"WH-{n()}", name="Site store")
    return Location.objects.create(warehouse=warehouse, code=code)


def stocked(site, quantity=10, unit_cost="100", **item_kw):
    """(item, location) with ``quantity`` received at ``unit_cost``."""
    item = make_item(**item_kw)
    location = make_location(site)
    services.receive(item, location, Decimal(str(quantity)), Decimal(unit_cost), reference="initial")
    return item, location
