import datetime as dt

from apps.core.testing import ApiContract
from apps.drilling.models import (
    BhaComponent,
    BhaRun,
    BitRecord,
    DrillingReport,
    IadcActivity,
    MudRecord,
    MudUsage,
    Rig,
    TimeLogRow,
)
from tests.drilling.helpers import code, report
from tests.wells import factories as f


class TestRigApi(ApiContract):
    endpoint = "/api/v1/drilling/rigs/"
    model = Rig
    invalid_field = "name"

    def make(self, world, in_scope=True):
        return Rig.objects.create(name=f"Rig {Rig.objects.count()}{in_scope}",
                                  site=world.site_a if in_scope else world.site_b)

    def create_payload(self, world):
        return {"name": "Rig 7", "contractor": "Drill Co", "site": str(world.site_a.pk)}

    def update_payload(self, world, obj):
        return {"contractor": "Other Co"}

    def invalid_payload(self, world):
        return {"name": "", "site": str(world.site_a.pk)}


class TestIadcCodeApi(ApiContract):
    endpoint = "/api/v1/drilling/iadc-codes/"
    model = IadcActivity
    scoped = False
    invalid_field = "code"

    def make(self, world, in_scope=True):
        return IadcActivity.objects.get(code="2", subcode="")

    def make_deletable(self, world):
        return IadcActivity.objects.create(code="99", description="Test")

    def create_payload(self, world):
        return {"code": "22", "subcode": "", "description": "Wait on weather", "productive": False}

    def update_payload(self, world, obj):
        return {"description": "Drilling"}

    def invalid_payload(self, world):
        return {"code": "", "description": "x"}


class TestDrillingReportApi(ApiContract):
    endpoint = "/api/v1/drilling/reports/"
    model = DrillingReport
    invalid_field = "daily_cost"

    def make(self, world, in_scope=True):
        return report(world, in_scope)

    def create_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "report_date": "2026-04-03", "depth_md": "2150.5",
                "daily_cost": "48500.00", "personnel_on_board": 38}

    def update_payload(self, world, obj):
        return {"remarks": "Drilled ahead"}

    def invalid_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "report_date": "2026-04-03", "daily_cost": "-5"}


class TestTimeLogApi(ApiContract):
    endpoint = "/api/v1/drilling/time-log/"
    model = TimeLogRow
    invalid_field = "md_to"

    def make(self, world, in_scope=True):
        return TimeLogRow.objects.create(report=report(world, in_scope), start_time=dt.time(6),
                                         end_time=dt.time(8), activity=code(), description="Drill")

    def create_payload(self, world):
        return {"report": str(report(world).pk), "start_time": "06:00", "end_time": "09:30",
                "activity": str(code("6", "A").pk), "description": "Trip in", "md_from": "0", "md_to": "1800"}

    def update_payload(self, world, obj):
        return {"description": "Drill 12-1/4in hole"}

    def invalid_payload(self, world):
        return {"report": str(report(world).pk), "start_time": "06:00", "end_time": "07:00",
                "activity": str(code().pk), "description": "x", "md_from": "1900", "md_to": "1800"}


class TestBitRecordApi(ApiContract):
    endpoint = "/api/v1/drilling/bits/"
    model = BitRecord
    invalid_field = "dull_grade"

    def make(self, world, in_scope=True):
        return BitRecord.objects.create(wellbore=f.wellbore(world, in_scope), bit_number="1", size_mm=311.15,
                                        serial_number="S1", depth_in=500)

    def create_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "bit_number": "3", "size_mm": "215.90", "iadc_code": "M323",
                "serial_number": "PDC-123", "tfa_mm2": "580", "depth_in": "1500", "depth_out": "2400", "hours": "41",
                "dull_grade": "1-2-WT-A-E-I-NO-TD"}

    def update_payload(self, world, obj):
        return {"dull_grade": "2-3-BT-S-X-I-CT-PR"}

    def invalid_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "bit_number": "4", "size_mm": "215.90",
                "serial_number": "X", "depth_in": "1500", "dull_grade": "1-2-WT"}


class TestBhaRunApi(ApiContract):
    endpoint = "/api/v1/drilling/bha-runs/"
    model = BhaRun
    invalid_field = "hours"

    def make(self, world, in_scope=True):
        return BhaRun.objects.create(wellbore=f.wellbore(world, in_scope), run_number=1, depth_in=100)

    def create_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "run_number": 2, "depth_in": "1500", "hours": "20"}

    def update_payload(self, world, obj):
        return {"purpose": "Build section"}

    def invalid_payload(self, world):
        return {"wellbore": str(f.wellbore(world).pk), "run_number": 2, "depth_in": "1500", "hours": "-1"}


class TestBhaComponentApi(ApiContract):
    endpoint = "/api/v1/drilling/bha-components/"
    model = BhaComponent
    invalid_field = "serial_number"

    def make(self, world, in_scope=True):
        run = BhaRun.objects.create(wellbore=f.wellbore(world, in_scope), run_number=1, depth_in=100)
        return BhaComponent.objects.create(bha=run, position=1, component_type="bit", od_mm=215.9, length_m=0.3)

    def create_payload(self, world):
        run = BhaRun.objects.create(wellbore=f.wellbore(world), run_number=1, depth_in=100)
        return {"bha": str(run.pk), "position": 1, "component_type": "bit", "od_mm": "215.9", "length_m": "0.3"}

    def update_payload(self, world, obj):
        return {"description": "PDC 5 blades"}

    def invalid_payload(self, world):
        run = BhaRun.objects.create(wellbore=f.wellbore(world), run_number=1, depth_in=100)
        return {"bha": str(run.pk), "position": 4, "component_type": "jar", "od_mm": "165", "length_m": "9.5"}


class TestMudRecordApi(ApiContract):
    endpoint = "/api/v1/drilling/mud-checks/"
    model = MudRecord
    invalid_field = "density_kg_m3"

    def make(self, world, in_scope=True):
        return MudRecord.objects.create(report=report(world, in_scope), checked_at=dt.time(12), density_kg_m3=1150)

    def create_payload(self, world):
        return {"report": str(report(world).pk), "checked_at": "14:00", "density_kg_m3": "1180", "ph": "9.5"}

    def update_payload(self, world, obj):
        return {"density_kg_m3": "1200"}

    def invalid_payload(self, world):
        return {"report": str(report(world).pk), "checked_at": "14:00", "density_kg_m3": "90"}


class TestMudUsageApi(ApiContract):
    endpoint = "/api/v1/drilling/mud-usage/"
    model = MudUsage
    invalid_field = "quantity"

    def make(self, world, in_scope=True):
        return MudUsage.objects.create(report=report(world, in_scope), product="Bentonite", quantity=10, unit="sack")

    def create_payload(self, world):
        return {"report": str(report(world).pk), "product": "Barite", "item_code": "BAR-50", "quantity": "40",
                "unit": "sack"}

    def update_payload(self, world, obj):
        return {"quantity": "12"}

    def invalid_payload(self, world):
        return {"report": str(report(world).pk), "product": "Barite", "quantity": "-1", "unit": "sack"}
