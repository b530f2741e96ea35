"""Every list page of the four ERP apps renders through the choke point; detail pages show in-scope objects and
answer 404 for out-of-scope ones; special pages (AFE report, work-order costs, POB, reliability) render."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.finance import views as finance_views
from apps.hr import views as hr_views
from apps.inventory import views as inventory_views
from apps.maintenance import views as maintenance_views
from tests.finance.factories import make_afe
from tests.hr.factories import make_employee
from tests.inventory.factories import stocked
from tests.maintenance.factories import make_work_order

pytestmark = pytest.mark.django_db

LISTS = [(app, model._meta.model_name) for app, module in (
    ("finance", finance_views), ("inventory", inventory_views), ("maintenance", maintenance_views),
    ("hr", hr_views)) for model, _, _ in module.PAGES]


@pytest.fixture
def browser(client, personas):
    client.force_login(personas["supervisor"])
    return client


@pytest.mark.parametrize(("app", "name"), LISTS)
def test_list_pages_render(app, name, browser, world):
    response = browser.get(reverse(f"{app}:{name}-list"))
    assert response.status_code == 200


def test_detail_pages_in_and_out_of_scope(browser, world, personas):
    afe_in = make_afe(world.site_a, approve_as=personas["admin"], estimate=Decimal("5000"))
    afe_out = make_afe(world.site_b)
    r = browser.get(reverse("finance:afe-detail", args=[afe_in.pk]))
    assert r.status_code == 200 and b"Estimate, committed and actual" in r.content
    assert browser.get(reverse("finance:afe-detail", args=[afe_out.pk])).status_code == 404
    item, _ = stocked(world.site_a, 3)
    assert browser.get(reverse("inventory:item-detail", args=[item.pk])).status_code == 200
    wo = make_work_order(world.site_a)
    r = browser.get(reverse("maintenance:workorder-detail", args=[wo.pk]))
    assert r.status_code == 200 and b"Costs: parts" in r.content
    assert browser.get(reverse("maintenance:workorder-detail", args=[make_work_order(world.site_b).pk])
                       ).status_code == 404
    emp = make_employee(world.site_a)
    assert browser.get(reverse("hr:employee-detail", args=[emp.pk])).status_code == 200
    assert browser.get(reverse("hr:pob") + f"?date={dt.date(2026, 2, 1)}").status_code == 200
    assert browser.get(reverse("maintenance:reliability")).status_code == 200


def test_navigation_lists_erp_pages_by_role(client, personas, world):
    from apps.core.navigation import navigation_for

    labels = {i["label"] for i in navigation_for(personas["viewer"])}
    assert {"AFEs", "Stock", "Work orders", "Employees", "POB"} <= labels
    assert not {i["label"] for i in navigation_for(personas["scada"])} & {"AFEs", "Stock", "Work orders"}
