"""POST /api/v1/ingest/realtime: schema, tenant, mapping, unit conversion, range, per-point verdicts, dead letters,
and the gateway driver that publishes the buffered points."""

import asyncio
import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from apps.wells.models import Well
from scada.ingest import units
from scada.ingest.models import DeadLetter, IngestBuffer, IngestionRecord
from scada.models import Device, Tag

URL = "/api/v1/ingest/realtime"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def ingest_tags(world):
    well = Well.objects.create(site=world.site_a, name="W07", uwi="42-501-00007")
    other_well = Well.objects.create(site=world.site_b, name="W90", uwi="42-501-00090")
    device = Device.objects.create(site=world.site_a, name="HTTP-1", protocol="http_ingest", connection={})
    device_b = Device.objects.create(site=world.site_b, name="HTTP-2", protocol="http_ingest", connection={})
    thp = Tag.objects.create(device=device, name="W07.THP", address={"key": "tubing_pressure"}, well=well,
                             unit="bar", eng_low=0, eng_high=350)
    temp = Tag.objects.create(device=device, name="W07.FLT", address={"key": "flowline_temperature"}, well=well,
                              unit="degC", eng_low=-20, eng_high=150)
    Tag.objects.create(device=device_b, name="W90.THP", address={"key": "tubing_pressure"}, well=other_well,
                       unit="bar", eng_low=0, eng_high=350)
    return {"thp": thp, "temp": temp}


def point(**over):
    base = {"well_id": "W07", "timestamp": NOW.isoformat(), "parameter_name": "tubing_pressure", "value": 1450.0,
            "unit": "psi", "quality_code": "GOOD", "source": "scada-vendor-x"}
    return {**base, **over}


def body(*points, tenant="edge-01"):
    return {"tenant_id": tenant, "data_points": list(points)}


def test_units_convert_with_pint_including_oilfield_units():
    assert units.convert(1450.0, "psi", "bar") == pytest.approx(99.974, rel=1e-4)
    assert units.convert(212.0, "degF", "degC") == pytest.approx(100.0)
    assert units.convert(1000.0, "bbl/day", "m3/d") == pytest.approx(158.987, rel=1e-5)
    assert units.convert(1.0, "Mscf/d", "m3/d") == pytest.approx(28.3168, rel=1e-5)
    with pytest.raises(ValueError, match="does not convert"):
        units.convert(1.0, "psi", "degC")
    with pytest.raises(ValueError, match="Unknown unit"):
        units.convert(1.0, "furlongs-per-fortnight-ish", "bar")


def test_accepts_converts_and_rejects_per_point_without_losing_neighbours(ingest_tags, api_for):
    response = api_for("scada").post(URL, body(
        point(),                                                          # 0: psi -> bar
        point(parameter_name="flowline_temperature", value=122.0, unit="degF"),  # 1: degF -> degC
        point(well_id="W99"),                                             # 2: unknown well
        point(parameter_name="choke"),                                    # 3: unknown parameter
        point(unit="degC"),                                               # 4: wrong dimension
        point(value=9000.0),                                              # 5: out of range (620 bar)
        point(timestamp=(NOW + timedelta(hours=1)).isoformat()),          # 6: future
        point(well_id="42-501-00007", value=1000.0, quality_code="UNCERTAIN"),  # 7: by UWI
        point(well_id="W90"),                                             # 8: another field: not in scope
    ), format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert set(result) == {"status", "message", "tenant_id", "ingestion_id", "accepted_count", "rejected_count",
                           "processing_time_ms", "rejected"}
    assert result["status"] == "partial" and result["accepted_count"] == 3 and result["rejected_count"] == 6
    assert [(r["index"], r["field"]) for r in result["rejected"]] == [
        (2, "well_id"), (3, "parameter_name"), (4, "unit"), (5, "value"), (6, "timestamp"), (8, "well_id")]
    rows = sorted(IngestBuffer.objects.values_list("tag_key", "value", "quality"), key=lambda r: (r[0], r[1]))
    thp, temp = ingest_tags["thp"].key, ingest_tags["temp"].key
    assert [(k, round(v, 2), q) for k, v, q in rows] == sorted(
        [(thp, 99.97, 0), (temp, 50.0, 0), (thp, 68.95, 1)], key=lambda r: (r[0], r[1]))
    assert DeadLetter.objects.filter(source="http").count() == 6
    assert IngestionRecord.objects.get(ingestion_id=result["ingestion_id"]).accepted == 3


def test_schema_errors_name_the_field(ingest_tags, api_for):
    client = api_for("scada")
    missing = client.post(URL, {"data_points": [point()]}, format="json")
    assert missing.status_code == 400
    assert missing.json()["details"][0]["field"] == "tenant_id"
    bad = client.post(URL, body(point(quality_code="MAYBE"), point(value="high")), format="json")
    fields = {d["field"] for d in bad.json()["details"]}
    assert fields == {"data_points.0.quality_code", "data_points.1.value"}
    too_many = client.post(URL, body(*[point()] * 1001), format="json")
    assert too_many.status_code == 400 and too_many.json()["details"][0]["field"] == "data_points"
    empty = client.post(URL, body(), format="json")
    assert empty.status_code == 400
    assert not IngestBuffer.objects.exists()


def test_tenant_must_match(ingest_tags, api_for):
    response = api_for("scada").post(URL, body(point(), tenant="someone-else"), format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "tenant_mismatch"
    assert response.json()["message"] == "Token tenant_id does not match request tenant_id."
    with override_settings(INGEST_TENANT_ID="operator_uk"):
        assert api_for("scada").post(URL, body(point(), tenant="operator_uk"), format="json").status_code == 200


def test_only_service_accounts_and_admins_push(ingest_tags, api_for, anon_api):
    assert anon_api.post(URL, body(point()), format="json").status_code == 401
    for role in ("viewer", "operator", "supervisor"):
        assert api_for(role).post(URL, body(point()), format="json").status_code == 403
    assert api_for("admin").post(URL, body(point()), format="json").status_code == 200


def test_dead_letters_are_readable_by_supervisors(ingest_tags, api_for):
    api_for("scada").post(URL, body(point(well_id="W99")), format="json")
    rows = api_for("supervisor").get("/api/v1/scada/dead-letters/").json()["results"]
    assert len(rows) == 1 and rows[0]["source"] == "http" and "well_id" in rows[0]["reason"]
    assert api_for("operator").get("/api/v1/scada/dead-letters/").status_code == 403


@pytest.mark.django_db(transaction=True)  # the driver reads from the gateway's own database thread
def test_gateway_driver_publishes_buffered_points_once(ingest_tags, api_for):
    from scada.ingest.driver import HttpIngestDriver
    from scada.runtime.config import load_config

    api_for("scada").post(URL, body(point(), point(value=1500.0)), format="json")
    config = next(c for c in load_config().values() if c.name == "HTTP-1")
    published = []

    async def publish(samples):
        published.extend(samples)
        await driver.close()

    driver = HttpIngestDriver(config, publish)

    async def scenario():
        await driver.connect()
        await asyncio.wait_for(driver.run(), 10)

    from asgiref.sync import async_to_sync

    async_to_sync(scenario)()
    assert sorted(round(s.value, 1) for s in published) == [100.0, 103.4]
    assert all(s.key == ingest_tags["thp"].key for s in published)
    assert not IngestBuffer.objects.exists()  # taken once: a second run publishes nothing


# --- limits: body size (413) and request rate (429) ---------------------------------------------------------------

def padded_body(size: int, points=None) -> bytes:
    """A valid JSON body of exactly ``size`` bytes: one point (or ``points``) and JSON whitespace before the last
    brace (the schema caps every string, and a request carries at most 1000 points)."""
    raw = json.dumps(body(*(points or [point()]))).encode()
    padded = raw[:-1] + b" " * (size - len(raw)) + b"}"
    assert len(padded) == size
    return padded


def test_limits_default_to_10_mib_and_100_requests_a_minute():
    from erp.settings import INGEST_MAX_BODY_BYTES, INGEST_RATE_PER_MINUTE

    assert INGEST_MAX_BODY_BYTES == 10 * 1024 * 1024
    assert INGEST_RATE_PER_MINUTE == 100


def test_body_over_the_limit_is_413_with_the_limit(ingest_tags, api_for, settings):
    settings.INGEST_MAX_BODY_BYTES = 4096
    client = api_for("scada")
    assert client.post(URL, padded_body(4096), content_type="application/json").status_code == 200
    response = client.post(URL, padded_body(4097), content_type="application/json")
    assert response.status_code == 413, response.content
    answer = response.json()
    assert answer["error"] == "payload_too_large" and answer["max_bytes"] == 4096
    assert "4,097 bytes" in answer["message"] and answer["details"] == []
    assert IngestBuffer.objects.count() == 1  # only the first request's point
    assert IngestionRecord.objects.count() == 1


def test_body_above_djangos_upload_limit_is_processed_when_under_ours(ingest_tags, api_for, settings):
    # Django refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) with a bare 400 when they go through
    # request.body, as DRF's JSONParser does: this endpoint takes up to INGEST_MAX_BODY_BYTES (10 MiB).
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < 9_000_000 < settings.INGEST_MAX_BODY_BYTES == 10 * 1024 * 1024
    raw = padded_body(9_000_000, [point(value=1000.0 + i / 10) for i in range(1000)])
    response = api_for("scada").post(URL, raw, content_type="application/json")
    assert response.status_code == 200, response.content[:500]
    assert response.json()["accepted_count"] == 1000
    assert IngestBuffer.objects.count() == 1000


def test_only_json_bodies_are_read(ingest_tags, api_for):
    response = api_for("scada").post(URL, "tenant_id=edge-01", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"
    bad = api_for("scada").post(URL, b'{"tenant_id": ', content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"] == "parse_error"


@contextmanager
def _no_connection_recycling():
    """What Django's test clients do around a request: the request signals must not close the test's connection
    (it holds the test's transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def asgi_post_chunked(user, raw: bytes, chunk: int = 1000) -> tuple[int, dict]:
    """POST through Django's real ASGI handler (what daphne runs) a body sent in chunks without Content-Length."""
    from asgiref.sync import async_to_sync
    from django.core.handlers.asgi import ASGIHandler
    from rest_framework_simplejwt.tokens import RefreshToken

    token = str(RefreshToken.for_user(user).access_token)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": URL, "raw_path": URL.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                         (b"transfer-encoding", b"chunked"), (b"authorization", f"Bearer {token}".encode())],
             "client": ("127.0.0.1", 40000), "server": ("testserver", 80)}
    pieces = [raw[i:i + chunk] for i in range(0, len(raw), chunk)]
    incoming = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]
    sent = []

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.Future()  # the client stays connected until the answer is sent

    async def send(message):
        sent.append(message)

    with _no_connection_recycling():
        async_to_sync(ASGIHandler())(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(content)


def test_chunked_body_without_content_length_is_read_and_bounded(ingest_tags, personas, settings):
    settings.INGEST_MAX_BODY_BYTES = 4096
    status, answer = asgi_post_chunked(personas["scada"], padded_body(4000))
    assert status == 200 and answer["accepted_count"] == 1, answer
    status, answer = asgi_post_chunked(personas["scada"], padded_body(50_000))
    assert status == 413 and answer["error"] == "payload_too_large" and answer["max_bytes"] == 4096, answer
    assert IngestBuffer.objects.count() == 1


@pytest.fixture(params=["locmem", "redis"])
def throttle_cache(request, settings):
    """The throttle's counts in the local-memory cache (one web process) and in Redis (production: shared)."""
    if request.param == "redis":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": request.getfixturevalue("redis_url")}}
    return request.param


@pytest.fixture
def throttle_clock(monkeypatch):
    """The throttle's clock, moved by the test instead of waiting a minute."""
    from scada.ingest.api.views import IngestRateThrottle

    clock = [1_000_000.0]
    monkeypatch.setattr(IngestRateThrottle, "timer", staticmethod(lambda: clock[0]))
    return clock


def test_more_than_n_requests_a_minute_per_client_is_429(ingest_tags, api_for, settings, throttle_cache,
                                                          throttle_clock):
    settings.INGEST_RATE_PER_MINUTE = 3
    scada, admin = api_for("scada"), api_for("admin")
    for _ in range(3):
        assert scada.post(URL, body(point()), format="json").status_code == 200
    throttle_clock[0] += 20
    refused = scada.post(URL, body(point()), format="json")
    assert refused.status_code == 429, refused.content
    answer = refused.json()
    assert answer["error"] == "rate_limit_exceeded"
    assert answer["retry_after_seconds"] == 40 and refused["Retry-After"] == "40"  # the oldest leaves the window
    assert answer["message"] == "3 requests/minute limit exceeded. Expected available in 40 seconds."
    assert answer["details"] == []
    assert IngestBuffer.objects.count() == 3

    assert admin.post(URL, body(point()), format="json").status_code == 200  # another client has its own count

    throttle_clock[0] += 40  # the first three requests leave the minute
    assert scada.post(URL, body(point()), format="json").status_code == 200
    assert IngestBuffer.objects.count() == 5


def test_the_rate_limit_fails_open_while_its_redis_is_away(ingest_tags, api_for, settings, caplog):
    """Redis restarting must not turn every push into a 500: the points are let through (they are stored in
    PostgreSQL) and the missing limit is logged."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    settings.INGEST_RATE_PER_MINUTE = 1
    scada = api_for("scada")
    with caplog.at_level("WARNING", logger="scada.ingest"):
        for _ in range(2):
            answer = scada.post(URL, body(point()), format="json")
            assert answer.status_code == 200, answer.content
    assert IngestBuffer.objects.count() == 2
    assert "rate limit not applied" in caplog.text


def test_the_ingest_limits_are_in_the_openapi_schema(personas, client):
    import yaml

    client.force_login(personas["viewer"])
    spec = yaml.safe_load(client.get("/api/schema/").content)
    responses = spec["paths"][URL]["post"]["responses"]
    assert {"200", "400", "403", "413", "429"} <= set(responses)

    def fields(code):
        ref = responses[code]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        return set(spec["components"]["schemas"][ref]["properties"])

    assert fields("413") == {"error", "message", "details", "max_bytes"}
    assert fields("429") == {"error", "message", "details", "retry_after_seconds"}
    assert "Retry-After" in responses["429"]["headers"]
