from apps.maintenance.models import Equipment, WorkOrder
from tests.finance.factories import n


def make_equipment(site, **kw) -> Equipment:
    defaults = {"tag_number": f"P-{n()}", "name": "Transfer pump", "equipment_class": "pump"}
    defaults.update(kw)
    return Equipment.objects.create(site=site, **defaults)


def make_work_order(site, **kw) -> WorkOrder:
    equipment = kw.pop("equipment", None) or make_equipment(site)
    defaults = {"title": "Seal leak", "kind": "corrective"}
    defaults.update(kw)
    return WorkOrder.objects.create(equipment=equipment, **defaults)
