from apps.core.models import AuditEvent
from apps.core.testing import ApiContract
from scada.alarms.choices import AlarmState as S
from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal, AlarmNotificationRule
from tests.scada.helpers import make_device, make_tag


class TestAlarmDefinitionApi(ApiContract):
    endpoint = "/api/v1/scada/alarm-definitions/"
    model = AlarmDefinition
    invalid_field = "setpoint"
    update_field = "setpoint"

    def _tag(self, site):
        return make_tag(make_device(site))

    def make(self, world, in_scope=True):
        return AlarmDefinition.objects.create(tag=self._tag(world.site_a if in_scope else world.site_b), kind="HH",
                                              setpoint=200, message="High-high")

    def create_payload(self, world):
        return {"tag": str(self._tag(world.site_a).pk), "kind": "H", "setpoint": 150, "deadband": 2,
                "priority": "high", "message": "High casing pressure", "operator_action": "Open the bleed valve"}

    def update_payload(self, world, obj):
        return {"setpoint": 210}

    def invalid_payload(self, world):
        return {"tag": str(self._tag(world.site_a).pk), "kind": "HH", "message": "no setpoint"}


def _raised(define, tag, engine, feed):
    defn = define(tag, "HH", 100.0)
    engine.load()
    feed(150)
    return Alarm.objects.get(definition=defn)


def test_operator_acknowledges_and_the_journal_names_them(tag, define, engine, feed, api_for):
    alarm = _raised(define, tag, engine, feed)
    response = api_for("operator").post(f"/api/v1/scada/alarms/{alarm.pk}/ack/", {"comment": "seen"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "ACKED" and response.json()["acked_by"] == "operator-user"
    entry = AlarmJournal.objects.get(event="ack")
    assert (entry.from_state, entry.to_state, entry.actor_name, entry.comment) == ("UNACKED", "ACKED",
                                                                                   "operator-user", "seen")
    journal = api_for("viewer").get("/api/v1/scada/alarm-journal/", {"alarm": str(alarm.pk)}).json()["results"]
    assert [j["event"] for j in journal] == ["ack", "raise"]
    assert AuditEvent.objects.filter(action="transition", actor_name="operator-user").exists()


def test_viewer_cannot_acknowledge_and_other_field_is_404(tag, tag_b, define, engine, feed, api_for):
    alarm = _raised(define, tag, engine, feed)
    response = api_for("viewer").post(f"/api/v1/scada/alarms/{alarm.pk}/ack/", {}, format="json")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    other = define(tag_b, "HH", 100.0)
    other_alarm = Alarm.objects.get(definition=other)
    assert api_for("operator").post(f"/api/v1/scada/alarms/{other_alarm.pk}/ack/", {}).status_code == 404
    assert Alarm.objects.get(pk=alarm.pk).state == S.UNACKED


def test_acknowledging_a_normal_alarm_is_a_409(tag, define, api_for):
    defn = define(tag, "HH", 100.0)
    alarm = Alarm.objects.get(definition=defn)
    response = api_for("operator").post(f"/api/v1/scada/alarms/{alarm.pk}/ack/", {}, format="json")
    assert response.status_code == 409 and response.json()["error"] == "conflict"


def test_shelve_needs_reason_and_bounded_duration(tag, define, engine, feed, api_for):
    alarm = _raised(define, tag, engine, feed)
    client = api_for("operator")
    bad = client.post(f"/api/v1/scada/alarms/{alarm.pk}/shelve/", {"duration_minutes": 30}, format="json")
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "reason"
    too_long = client.post(f"/api/v1/scada/alarms/{alarm.pk}/shelve/", {"reason": "x", "duration_minutes": 3000},
                           format="json")
    assert too_long.status_code == 400
    ok = client.post(f"/api/v1/scada/alarms/{alarm.pk}/shelve/", {"reason": "instrument tech on site",
                                                                  "duration_minutes": 60}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "SHELVED"
    assert ok.json()["shelve_reason"] == "instrument tech on site" and ok.json()["shelved_until"]
    back = client.post(f"/api/v1/scada/alarms/{alarm.pk}/unshelve/", {}, format="json")
    assert back.json()["state"] == "UNACKED"


def test_out_of_service_is_for_supervisors(tag, define, engine, feed, api_for):
    alarm = _raised(define, tag, engine, feed)
    url = f"/api/v1/scada/alarms/{alarm.pk}/out-of-service/"
    assert api_for("operator").post(url, {"reason": "PT-101 replaced"}, format="json").status_code == 403
    response = api_for("supervisor").post(url, {"reason": "PT-101 replaced"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "OUT_OF_SERVICE"
    back = api_for("supervisor").post(f"/api/v1/scada/alarms/{alarm.pk}/return-to-service/", {}, format="json")
    assert back.json()["state"] == "UNACKED"  # the condition is still active


def test_alarm_list_filters_and_scope(tag, tag_b, define, engine, feed, api_for):
    _raised(define, tag, engine, feed)
    define(tag_b, "HH", 100.0)
    rows = api_for("operator").get("/api/v1/scada/alarms/", {"state": "UNACKED"}).json()["results"]
    assert [(r["tag"], r["state"], r["site"]) for r in rows] == [("W01.THP", "UNACKED", "SA1")]
    everything = api_for("admin").get("/api/v1/scada/alarms/").json()["count"]
    assert everything == 2
    assert api_for("operator").get("/api/v1/scada/alarms/", {"standing": "false"}).json()["count"] == 0


def test_kpis(tag, define, engine, feed, api_for):
    _raised(define, tag, engine, feed)
    body = api_for("supervisor").get("/api/v1/scada/alarm-kpis/", {"site": "SA1"}).json()
    assert body["raised"] == 1 and body["active"] == 1 and body["unacknowledged"] == 1
    assert body["most_frequent"] == [{"tag": "W01.THP", "kind": "HH", "count": 1}]
    assert api_for("supervisor").get("/api/v1/scada/alarm-kpis/", {"hours": "x"}).status_code == 400


def test_alarm_summary_page_lists_and_acknowledges(tag, define, engine, feed, personas, client):
    alarm = _raised(define, tag, engine, feed)
    client.force_login(personas["viewer"])
    page = client.get("/alarms/").content.decode()
    assert "W01.THP" in page and "Acknowledge</button>" not in page
    client.force_login(personas["operator"])
    page = client.get("/alarms/").content.decode()
    assert "Acknowledge</button>" in page
    client.post(f"/alarms/{alarm.pk}/ack/")
    assert Alarm.objects.get(pk=alarm.pk).state == S.ACKED


class TestAlarmRuleApi(ApiContract):
    endpoint = "/api/v1/scada/alarm-rules/"
    model = AlarmNotificationRule
    scoped = False
    invalid_field = "role"

    def make(self, world, in_scope=True):
        return self.model.objects.create(name=f"rule {self.model.objects.count()}", field=world.field_a)

    def create_payload(self, world):
        return {"name": "Critical to operators", "min_priority": "critical", "field": str(world.field_a.pk),
                "role": "operator"}

    def update_payload(self, world, obj):
        return {"name": "Renamed rule"}

    def invalid_payload(self, world):
        return {"name": "bad", "role": "scada"}


def test_demo_alarm_loader_is_idempotent(db):
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    first = AlarmDefinition.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert first > 0 and AlarmDefinition.objects.count() == first
    assert Alarm.objects.count() == first


def test_journal_rows_without_their_alarm_still_name_it(tag, define, engine, feed, api_for, personas, client):
    """The hub's copy of a journal row has no alarm link (per-box SCADA state stays home): it is named by the tag
    name and kind it carries, in the API, the KPIs and the summary page."""
    from django.utils import timezone

    _raised(define, tag, engine, feed)
    raised = AlarmJournal.objects.get(event="raise")
    assert (raised.tag_name, raised.kind) == ("W01.THP", "HH")
    AlarmJournal.objects.create(site=raised.site, tag_name="W01.THP", kind="HH", at=timezone.now(), event="raise",
                                from_state="NORMAL", to_state="UNACKED", value=251.0)  # as applied at the hub
    journal = api_for("viewer").get("/api/v1/scada/alarm-journal/", {"tag": "W01.THP"}).json()["results"]
    assert len(journal) == 2 and {(j["tag"], j["kind"]) for j in journal} == {("W01.THP", "HH")}
    body = api_for("supervisor").get("/api/v1/scada/alarm-kpis/", {"site": "SA1"}).json()
    assert body["most_frequent"] == [{"tag": "W01.THP", "kind": "HH", "count": 2}]
    client.force_login(personas["viewer"])
    page = client.get("/alarms/")
    assert page.status_code == 200 and page.content.decode().count("W01.THP HH") >= 2
