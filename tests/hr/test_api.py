"""The generic per-role API contract for the HR endpoints."""

import datetime as dt

from apps.drilling.models import Rig
from apps.hr import models as m
from apps.hr import services
from tests.finance.contract import FastApiContract as ApiContract
from tests.finance.factories import make_cost_center, n
from tests.hr.factories import cert_type, certify, make_crew, make_employee


def _site(world, in_scope):
    return world.site_a if in_scope else world.site_b


class TestPositionApi(ApiContract):
    endpoint = "/api/v1/hr/positions/"
    model = m.Position
    scoped = False
    invalid_field = "hourly_rate"

    def make(self, world, in_scope=True):
        return m.Position.objects.create(code=f"P{n()}", title="Driller", hourly_rate=55)

    def create_payload(self, world):
        return {"code": "TP", "title": "Toolpusher", "hourly_rate": "80"}

    def update_payload(self, world, obj):
        return {"title": "Senior driller"}

    def invalid_payload(self, world):
        return {"code": "BAD", "title": "x", "hourly_rate": "-1"}


class TestRotationApi(ApiContract):
    endpoint = "/api/v1/hr/rotations/"
    model = m.RotationSchedule
    scoped = False
    invalid_field = "days_on"

    def make(self, world, in_scope=True):
        return m.RotationSchedule.objects.create(name=f"R{n()}", days_on=14, days_off=14)

    def create_payload(self, world):
        return {"name": "21/21", "days_on": 21, "days_off": 21}

    def update_payload(self, world, obj):
        return {"days_off": 7}

    def invalid_payload(self, world):
        return {"name": "0/7", "days_on": 0, "days_off": 7}


class TestEmployeeApi(ApiContract):
    endpoint = "/api/v1/hr/employees/"
    model = m.Employee
    invalid_field = "rotation_start"

    def make(self, world, in_scope=True):
        return make_employee(_site(world, in_scope))

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "employee_number": "E-NEW", "first_name": "Joe", "last_name": "Bloggs"}

    def update_payload(self, world, obj):
        return {"last_name": "Smith"}

    def invalid_payload(self, world):
        rot = m.RotationSchedule.objects.create(name="14/14", days_on=14, days_off=14)
        return {"site": str(world.site_a.pk), "employee_number": "E-BAD", "first_name": "x", "last_name": "y",
                "rotation": str(rot.pk)}


class TestCertificationTypeApi(ApiContract):
    endpoint = "/api/v1/hr/certification-types/"
    model = m.CertificationType
    scoped = False
    invalid_field = "validity_months"

    def make(self, world, in_scope=True):
        return cert_type(f"C{n()}")

    def create_payload(self, world):
        return {"code": "IWCF", "name": "IWCF well control", "validity_months": 24}

    def update_payload(self, world, obj):
        return {"name": "Renamed"}

    def invalid_payload(self, world):
        return {"code": "X", "name": "x", "validity_months": 0}


class TestCertificateApi(ApiContract):
    endpoint = "/api/v1/hr/certificates/"
    model = m.Certificate
    invalid_field = "expires_on"

    def make(self, world, in_scope=True):
        return certify(make_employee(_site(world, in_scope)))

    def create_payload(self, world):
        return {"employee": str(make_employee(world.site_a).pk), "certification_type": str(cert_type().pk),
                "number": "H2S-1", "issued_on": "2026-01-10"}

    def update_payload(self, world, obj):
        return {"number": "H2S-99"}

    def invalid_payload(self, world):
        return {"employee": str(make_employee(world.site_a).pk), "certification_type": str(cert_type().pk),
                "issued_on": "2026-01-10", "expires_on": "2025-01-01"}

    def test_expiry_defaults_to_validity(self, world, api_for):
        r = api_for("supervisor").post(self.endpoint, self.create_payload(world), format="json")
        assert r.json()["expires_on"] == "2028-01-10"


class TestCrewApi(ApiContract):
    endpoint = "/api/v1/hr/crews/"
    model = m.Crew
    invalid_field = "site"

    def make(self, world, in_scope=True):
        return make_crew(_site(world, in_scope))

    def create_payload(self, world):
        return {"site": str(world.site_a.pk), "name": "Crew A", "required_certifications": [str(cert_type().pk)]}

    def update_payload(self, world, obj):
        return {"name": "Crew B"}

    def invalid_payload(self, world):
        return {"name": "No site"}


class TestRigRequirementApi(ApiContract):
    endpoint = "/api/v1/hr/rig-requirements/"
    model = m.RigCertificationRequirement
    invalid_field = "certification_type"

    def make(self, world, in_scope=True):
        rig = Rig.objects.create(name=f"Rig {n()}", site=_site(world, in_scope))
        return m.RigCertificationRequirement.objects.create(rig=rig, certification_type=cert_type(f"C{n()}"))

    def create_payload(self, world):
        rig = Rig.objects.create(name=f"Rig {n()}", site=world.site_a)
        return {"rig": str(rig.pk), "certification_type": str(cert_type("IWCF").pk)}

    def update_payload(self, world, obj):
        return {"certification_type": str(cert_type(f"C{n()}").pk)}

    def invalid_payload(self, world):
        rig = Rig.objects.create(name=f"Rig {n()}", site=world.site_a)
        return {"rig": str(rig.pk)}


class TestCrewAssignmentApi(ApiContract):
    endpoint = "/api/v1/hr/crew-assignments/"
    model = m.CrewAssignment
    invalid_field = "employee"

    def make(self, world, in_scope=True):
        site = _site(world, in_scope)
        return services.assign_to_crew(make_employee(site), make_crew(site), dt.date(2026, 2, 1))

    def create_payload(self, world):
        return {"crew": str(make_crew(world.site_a).pk), "employee": str(make_employee(world.site_a).pk),
                "start_date": "2026-02-01"}

    def update_payload(self, world, obj):
        return {"end_date": "2026-03-01"}

    def invalid_payload(self, world):
        crew = make_crew(world.site_a, requires=("H2S",))
        return {"crew": str(crew.pk), "employee": str(make_employee(world.site_a).pk), "start_date": "2026-02-01"}


class TestTimesheetApi(ApiContract):
    endpoint = "/api/v1/hr/timesheets/"
    model = m.Timesheet
    invalid_field = "overtime_hours"

    def make(self, world, in_scope=True):
        site = _site(world, in_scope)
        return m.Timesheet.objects.create(employee=make_employee(site), date=dt.date(2026, 2, 2), hours=10,
                                          job_reference="JOB-1", cost_center=make_cost_center(site))

    def create_payload(self, world):
        return {"employee": str(make_employee(world.site_a).pk), "date": "2026-02-03", "hours": "12",
                "overtime_hours": "2", "job_reference": "JOB-2"}

    def update_payload(self, world, obj):
        return {"hours": "11"}

    def invalid_payload(self, world):
        return {"employee": str(make_employee(world.site_a).pk), "date": "2026-02-03", "hours": "20",
                "overtime_hours": "6", "job_reference": "JOB-3"}
