"""Helpers shared by the sync tests."""

from __future__ import annotations

import gzip
import json
import uuid

from apps.sync import services


def gz(body: dict) -> bytes:
    return gzip.compress(json.dumps(body).encode())


def push(client, token: str, events: list, edge_id: str | None = None, raw: bytes | None = None):
    data = raw if raw is not None else gz({"edge_id": edge_id, "events": events} if edge_id else {"events": events})
    return client.generic(
        "POST", "/api/v1/sync/push", data, content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip", HTTP_AUTHORIZATION=f"Sync {token}",
    )


def event(label: str, payload: dict, *, sequence: int, op: str = "upsert", aggregate_id=None, event_id=None) -> dict:
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "sequence": sequence,
        "aggregate_type": label,
        "aggregate_id": str(aggregate_id or payload.get("id")),
        "op": op,
        "payload": payload,
    }


def field_payload(code: str, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "code": code, "name": f"Field {code}", "country": "", "operator": "",
            "time_zone": "UTC", "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z", **extra}


def credential(edge_id: str) -> str:
    return services.issue_credential(edge_id)[1]
