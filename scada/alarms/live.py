"""The alarm as the HMI sees it (snapshot rows and live transition messages share this shape)."""

from __future__ import annotations


def alarm_payload(alarm, journal=None) -> dict:
    defn = alarm.definition
    return {
        "id": str(alarm.pk),
        "tag": defn.tag.name,
        "kind": defn.kind,
        "message": defn.message,
        "priority": alarm.priority,
        "state": alarm.state,
        "active": alarm.active,
        "value": alarm.value,
        "site_id": str(alarm.site_id),
        "raised_at": alarm.raised_at.isoformat() if alarm.raised_at else None,
        "event": journal.event if journal is not None else None,
        "at": journal.at.isoformat() if journal is not None else None,
        "by": journal.actor_name if journal is not None else None,
    }
