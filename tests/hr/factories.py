import datetime as dt

from apps.hr.models import Certificate, CertificationType, Crew, Employee, Position
from tests.finance.factories import n


def make_employee(site, **kw) -> Employee:
    position = kw.pop("position", None) or Position.objects.create(code=f"POS{n()}", title="Floorhand",
                                                                    hourly_rate=40)
    defaults = {"employee_number": f"E{n():05d}", "first_name": "Ana", "last_name": f"Lopez{n()}"}
    defaults.update(kw)
    return Employee.objects.create(site=site, position=position, **defaults)


def cert_type(code="H2S", months=24) -> CertificationType:
    obj, _ = CertificationType.objects.get_or_create(code=code, defaults={"name": code, "validity_months": months})
    return obj


def certify(employee, code="H2S", issued=None, expires=None) -> Certificate:
    issued = issued or dt.date(2026, 1, 1)
    return Certificate.objects.create(employee=employee, certification_type=cert_type(code), issued_on=issued,
                                      expires_on=expires)


def make_crew(site, requires=(), rig=None) -> Crew:
    crew = Crew.objects.create(site=site, name=f"Crew {n()}", rig=rig)
    for code in requires:
        crew.required_certifications.add(cert_type(code))
    return crew
