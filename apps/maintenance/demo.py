"""Demo data of the ERP business apps for ``manage.py seed_demo`` (idempotent: a second run changes nothing).

Warehouses with stock, an approved drilling AFE carrying the demo DDRs' daily costs, employees with valid and
expiring certificates on a rig crew, equipment for each well's artificial lift and the production facility, open and
closed work orders, and preventive plans.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.utils import timezone


def seed_erp(stdout) -> None:
    from apps.wells.models import Site

    if not Site.objects.filter(code="PAD-A").exists():
        stdout.write("ERP demo skipped: the core demo sites are missing.")
        return
    admin = _admin()
    cc, afe = _finance(admin)
    items = _inventory(cc)
    _hr(cc)
    _maintenance(cc, afe, items)
    stdout.write("Seeded ERP: 2 warehouses with stock, cost centres, an approved drilling AFE with DDR costs, "
                 "6 employees with certificates on a rig crew, equipment with work orders and PM plans.")


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username="admin").first()


def _finance(admin):
    from apps.finance import services
    from apps.finance.models import AFE, AFELine, AFEPartner, CostCenter
    from apps.wells.models import Site, Well

    gs1, pad_b = Site.objects.get(code="GS-1"), Site.objects.get(code="PAD-B")
    cc, _ = CostCenter.objects.update_or_create(code="LOE-NORTH", defaults={"site": gs1,
                                                                            "name": "North lease operating expense"})
    CostCenter.objects.update_or_create(code="LOE-PADA", defaults={"site": Site.objects.get(code="PAD-A"),
                                                                   "name": "Pad A lease operating expense"})
    well = Well.objects.filter(name="B-03").first() or Well.objects.filter(site=pad_b).first()
    afe, _ = AFE.objects.update_or_create(number="AFE-2026-D01", defaults={
        "site": well.site if well else pad_b, "well": well, "title": f"Drill and case {well or 'B-03'}",
        "afe_type": "drill", "owner": _user("supervisor")})
    for category, cls, estimate, text in (
        ("RIG", "intangible", D("420000"), "Rig day rate and fuel"),
        ("MUD", "intangible", D("85000"), "Drilling fluids and engineering"),
        ("BITS", "intangible", D("60000"), "Bits and downhole tools"),
        ("CASING", "tangible", D("240000"), "Casing and wellhead"),
        ("SERVICES", "intangible", D("150000"), "Cementing, logging, directional"),
    ):
        if afe.status == "draft":
            AFELine.objects.update_or_create(afe=afe, category=category, defaults={
                "cost_class": cls, "estimate": estimate, "description": text})
    for partner, share in (("Demo Energy (operator)", D("60")), ("Ridge Partners", D("25")),
                           ("Basin Royalty Trust", D("15"))):
        AFEPartner.objects.update_or_create(afe=afe, partner=partner, defaults={"working_interest": share})
    if afe.status == "draft":
        services.submit_afe(afe, admin)
        afe.refresh_from_db()
    if afe.status == "submitted":
        services.approve_afe(afe, admin, "Demo approval")
        afe.refresh_from_db()
    _ddr_costs(afe)
    return cc, afe


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username).first()


def _ddr_costs(afe):
    """Book each demo DDR's daily cost on the AFE's RIG line (idempotent per report: book_cost)."""
    from django.apps import apps

    from apps.finance.services import book_cost

    try:
        DrillingReport = apps.get_model("drilling", "DrillingReport")
    except LookupError:
        return
    line = afe.lines.get(category="RIG")
    reports = DrillingReport.objects.filter(daily_cost__gt=0)
    if afe.well_id:
        reports = reports.filter(wellbore__well=afe.well)
    for report in reports:
        book_cost("ddr", report.pk, report.daily_cost, afe_line=line, date=report.report_date,
                  description=f"DDR {report.report_date:%Y-%m-%d}", replace=True)


def _inventory(cc):
    from apps.drilling.models import Rig
    from apps.inventory import services
    from apps.inventory.models import Item, Location, StockMove, Warehouse
    from apps.wells.models import Site

    gs1 = Site.objects.get(code="GS-1")
    store, _ = Warehouse.objects.update_or_create(code="WH-GS1", defaults={"site": gs1, "name": "GS-1 site store",
                                                                          "kind": "site_store"})
    rig = Rig.objects.filter(name="Demo Rig 12").first()
    rig_store, _ = Warehouse.objects.update_or_create(code="WH-RIG12", defaults={
        "site": rig.site if rig and rig.site_id else Site.objects.get(code="PAD-B"), "name": "Rig 12 store",
        "kind": "rig_store", "rig": rig})
    bins = {}
    for wh, code in ((store, "A-01"), (store, "A-02"), (store, "YARD"), (rig_store, "R-01")):
        bins[(wh.code, code)], _ = Location.objects.update_or_create(warehouse=wh, code=code)
    catalogue = [
        ("SEAL-MECH-2", "Mechanical seal, 2in, transfer pump", "ea", "spare", D(2), D(4), ("WH-GS1", "A-01"), 6,
         D("410.00")),
        ("BRG-6309", "Bearing 6309-2RS", "ea", "spare", D(4), D(10), ("WH-GS1", "A-01"), 12, D("38.50")),
        ("FLT-OIL-K100", "Oil filter, compressor K-100", "ea", "consumable", D(3), D(6), ("WH-GS1", "A-02"), 5,
         D("64.00")),
        ("ESP-CABLE-4", "ESP power cable #4 AWG", "m", "spare", D(500), D(1000), ("WH-GS1", "YARD"), 1200,
         D("21.75")),
        ("ROD-7-8", "Sucker rod 7/8in x 25ft", "ea", "tubular", D(20), D(40), ("WH-GS1", "YARD"), 60, D("96.00")),
        ("BARITE", "Barite, 100 lb sack", "sk", "chemical", D(200), D(400), ("WH-RIG12", "R-01"), 350, D("14.20")),
        ("BENT", "Bentonite, 100 lb sack", "sk", "chemical", D(100), D(200), ("WH-RIG12", "R-01"), 90, D("11.80")),
    ]
    items = {}
    for sku, text, uom, category, rop, roq, where, qty, cost in catalogue:
        item, _ = Item.objects.update_or_create(sku=sku, defaults={
            "description": text, "uom": uom, "category": category, "reorder_point": rop, "reorder_quantity": roq})
        items[sku] = item
        location = bins[where]
        if not StockMove.objects.filter(item=item, to_location=location, reference="DEMO-OPENING").exists():
            services.receive(item, location, qty, cost, reference="DEMO-OPENING")
    if not StockMove.objects.filter(reference="DEMO-LOE-1").exists():
        services.issue(items["BRG-6309"], bins[("WH-GS1", "A-01")], 2, cost_center=cc, reference="DEMO-LOE-1")
    return {"items": items, "bins": bins}


def _hr(cc):
    from apps.drilling.models import Rig
    from apps.hr import services
    from apps.hr.models import (
        Certificate,
        CertificationType,
        Crew,
        CrewAssignment,
        Employee,
        Position,
        RigCertificationRequirement,
        RotationSchedule,
        Timesheet,
    )
    from apps.wells.models import Site

    today = timezone.localdate()
    types = {}
    for code, name, months in (("H2S", "H2S awareness", 24), ("IWCF", "IWCF well control (drilling)", 24),
                               ("WELLSHARP", "IADC WellSharp", 24), ("FA", "First aid", 36),
                               ("BOSIET", "Offshore survival (BOSIET)", 48)):
        types[code], _ = CertificationType.objects.update_or_create(code=code, defaults={
            "name": name, "validity_months": months})
    positions = {}
    for code, title, rate in (("TP", "Toolpusher", D("85")), ("DRL", "Driller", D("62")),
                              ("FLH", "Floorhand", D("38")), ("PO", "Production operator", D("45")),
                              ("MT", "Maintenance technician", D("50"))):
        positions[code], _ = Position.objects.update_or_create(code=code, defaults={"title": title,
                                                                                    "hourly_rate": rate})
    rot14, _ = RotationSchedule.objects.update_or_create(name="14/14", defaults={"days_on": 14, "days_off": 14})
    rot21, _ = RotationSchedule.objects.update_or_create(name="21/21", defaults={"days_on": 21, "days_off": 21})
    pad_b, gs1 = Site.objects.get(code="PAD-B"), Site.objects.get(code="GS-1")
    start = today - dt.timedelta(days=(today.toordinal() % 28))
    people = [
        ("E-1001", "Marta", "Silva", "TP", pad_b, rot21, {"H2S": 400, "IWCF": 500, "FA": 700}),
        ("E-1002", "Tom", "Okafor", "DRL", pad_b, rot21, {"H2S": 20, "IWCF": 300, "FA": 500}),  # H2S expiring soon
        ("E-1003", "Ravi", "Nair", "FLH", pad_b, rot14, {"H2S": 600, "FA": 25}),
        ("E-1004", "Jon", "Berg", "FLH", pad_b, rot14, {"H2S": -10, "FA": 200}),  # H2S expired
        ("E-1005", "Lea", "Moreau", "PO", gs1, rot14, {"H2S": 350, "FA": 400}),
        ("E-1006", "Omar", "Haddad", "MT", gs1, rot14, {"H2S": 15, "FA": 150}),  # H2S expiring soon
    ]
    employees = {}
    for number, first, last, pos, site, rot, certs in people:
        emp, _ = Employee.objects.update_or_create(employee_number=number, defaults={
            "first_name": first, "last_name": last, "position": positions[pos], "site": site, "rotation": rot,
            "rotation_start": start})
        employees[number] = emp
        for code, days_left in certs.items():
            expires = today + dt.timedelta(days=days_left)
            Certificate.objects.update_or_create(employee=emp, certification_type=types[code],
                                                 number=f"{code}-{number}", defaults={
                                                     "issued_on": expires - dt.timedelta(days=700),
                                                     "expires_on": expires})
    rig = Rig.objects.filter(name="Demo Rig 12").first()
    if rig is not None:
        RigCertificationRequirement.objects.get_or_create(rig=rig, certification_type=types["H2S"])
    crew, _ = Crew.objects.update_or_create(site=rig.site if rig and rig.site_id else pad_b, name="Rig 12 crew A",
                                            defaults={"rig": rig})
    crew.required_certifications.add(types["H2S"])
    ops, _ = Crew.objects.update_or_create(site=gs1, name="GS-1 operations")
    for number, target in (("E-1001", crew), ("E-1002", crew), ("E-1003", crew), ("E-1005", ops),
                           ("E-1006", ops)):
        emp = employees[number]
        if not CrewAssignment.objects.filter(employee=emp, crew=target).exists():
            services.assign_to_crew(emp, target, start)
    # E-1004 (expired H2S) is deliberately not on the rig crew: assigning him is refused.
    for number, days_ago, hours, ot in (("E-1005", 3, D(12), D(0)), ("E-1005", 2, D(12), D(1)),
                                        ("E-1006", 2, D(10), D(0))):
        emp = employees[number]
        ts, created = Timesheet.objects.get_or_create(employee=emp, date=today - dt.timedelta(days=days_ago),
                                                      job_reference="GS-1 routine", defaults={
                                                          "hours": hours, "overtime_hours": ot, "cost_center": cc})
        if ts.status == "draft":
            services.submit_timesheet(ts)
            if number == "E-1005":
                services.approve_timesheet(ts, _admin())


def _maintenance(cc, afe, stock):
    from apps.maintenance import services
    from apps.maintenance.models import Equipment, PreventivePlan, WorkOrder
    from apps.wells.models import Site, Well

    gs1 = Site.objects.get(code="GS-1")
    kinds = ["esp", "pump"]
    for i, well in enumerate(Well.objects.filter(site__field__code__in=["NORTH", "SOUTH"]).order_by("name")):
        cls = kinds[i % 2]
        Equipment.objects.update_or_create(tag_number=f"AL-{well.name}", defaults={
            "site": well.site, "well": well, "name": ("ESP" if cls == "esp" else "Rod pump") + f" {well.name}",
            "equipment_class": cls, "level": "unit", "criticality": "A", "manufacturer": "Demo Lift",
            "run_hours": D(1800 + 250 * i)})
    facility = {}
    for tag, name, cls, level, parent, crit in (
        ("GS1-PROD", "GS-1 production facility", "other", "system", None, "A"),
        ("V-100", "Inlet separator", "separator", "unit", "GS1-PROD", "A"),
        ("K-100", "Gas compressor", "compressor", "unit", "GS1-PROD", "A"),
        ("K-100-M", "Compressor driver motor", "motor", "subunit", "K-100", "B"),
        ("P-101A", "Oil transfer pump A", "pump", "unit", "GS1-PROD", "B"),
        ("P-101B", "Oil transfer pump B", "pump", "unit", "GS1-PROD", "B"),
        ("T-200", "Stock tank", "tank", "unit", "GS1-PROD", "C"),
    ):
        facility[tag], _ = Equipment.objects.update_or_create(tag_number=tag, defaults={
            "site": gs1, "name": name, "equipment_class": cls, "level": level, "criticality": crit,
            "parent": facility.get(parent), "run_hours": D(6200) if cls in ("compressor", "pump") else D(0)})
    today = timezone.localdate()
    plans = [
        (facility["K-100"], "2000 h compressor service", "run_hours", None, D(2000), D(6000)),
        (facility["P-101A"], "Monthly pump inspection", "calendar", 30, None, None),
        (facility["V-100"], "Quarterly relief valve test", "calendar", 90, None, None),
    ]
    for equipment, name, trigger, days, hours, last_hours in plans:
        PreventivePlan.objects.update_or_create(equipment=equipment, name=name, defaults={
            "trigger": trigger, "interval_days": days, "interval_hours": hours, "cost_center": cc,
            "start_date": today - dt.timedelta(days=25), "last_done_hours": last_hours, "task": name})
    now = timezone.now()
    if not WorkOrder.objects.filter(equipment=facility["P-101B"], title__startswith="P-101B: Seal leak").exists():
        wo = WorkOrder.objects.create(equipment=facility["P-101B"], title="P-101B: Seal leak at NDE",
                                      kind="corrective", priority="2", cost_center=cc)
        services.plan_work_order(wo)
        services.start_work_order(wo, at=now - dt.timedelta(days=9, hours=6))
        part = services.add_part(wo, stock["items"]["SEAL-MECH-2"], stock["bins"][("WH-GS1", "A-01")], 1)
        services.issue_part(part)
        services.complete_work_order(wo, at=now - dt.timedelta(days=9), failure_mode="ELP", failure_cause="wear")
        services.close_work_order(wo)
    if not WorkOrder.objects.filter(equipment=facility["K-100"], title__startswith="K-100: High vibration").exists():
        wo = WorkOrder.objects.create(equipment=facility["K-100"], title="K-100: High vibration on DE bearing",
                                      kind="corrective", priority="1", cost_center=cc)
        services.add_part(wo, stock["items"]["BRG-6309"], stock["bins"][("WH-GS1", "A-01")], 2)
    services.generate_due_work_orders()
