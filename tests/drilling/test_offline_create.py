"""The DDR time-log form works offline and re-sends: a create with a client UUID is idempotent."""

import uuid

import pytest

from apps.drilling.models import IadcActivity, TimeLogRow
from tests.drilling.helpers import report

pytestmark = pytest.mark.django_db


def test_resend_with_same_client_id_is_the_same_row(world, api_for):
    rep = report(world)
    activity, _ = IadcActivity.objects.get_or_create(code="2", subcode="", defaults={"description": "Drilling"})
    body = {"id": str(uuid.uuid4()), "report": str(rep.pk), "start_time": "06:00", "end_time": "12:00",
            "activity": str(activity.pk), "description": "Drill 8-1/2in hole"}
    client = api_for("operator")
    assert client.post("/api/v1/drilling/time-log/", body, format="json").status_code == 201
    again = client.post("/api/v1/drilling/time-log/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert TimeLogRow.objects.filter(report=rep).count() == 1


def test_invalid_row_answers_the_field_in_the_envelope(world, api_for):
    rep = report(world)
    activity, _ = IadcActivity.objects.get_or_create(code="2", subcode="", defaults={"description": "Drilling"})
    body = {"id": str(uuid.uuid4()), "report": str(rep.pk), "start_time": "06:00", "end_time": "12:00",
            "activity": str(activity.pk), "description": "Stuck pipe", "npt": True}
    r = api_for("operator").post("/api/v1/drilling/time-log/", body, format="json")
    assert r.status_code == 400
    assert r.json()["details"][0]["field"] == "npt_category"
    assert not TimeLogRow.objects.filter(pk=body["id"]).exists()
