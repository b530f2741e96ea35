"""Demo alarm definitions for the demo wells' tags (idempotent) and a notification rule for field NORTH."""

from __future__ import annotations

# suffix -> [(kind, setpoint, deadband, priority, message, operator action)]
DEFINITIONS = {
    "THP": [("HH", 85.0, 2.0, "critical", "Tubing head pressure high-high", "Close the choke; call the supervisor."),
            ("H", 75.0, 2.0, "high", "Tubing head pressure high", "Check the flowline and separator pressure."),
            ("COMM", None, 0.0, "medium", "THP transmitter communication failure", "Check the RTU and loop.")],
    "CHP": [("H", 50.0, 1.0, "high", "Casing head pressure high", "Check annulus; bleed off per procedure.")],
    "FLP": [("HH", 35.0, 1.0, "critical", "Flowline pressure high-high", "Shut in the well at the wing valve.")],
    "PIP": [("LL", 20.0, 2.0, "high", "ESP intake pressure low-low (pump-off risk)", "Reduce ESP frequency.")],
    "ESP_AMPS": [("HH", 110.0, 2.0, "critical", "ESP motor overcurrent", "Stop the ESP; check for a lock-up."),
                 ("L", 20.0, 2.0, "medium", "ESP motor underload", "Check for gas lock or a broken shaft.")],
    "TANK_LVL": [("H", 90.0, 2.0, "high", "Tank level high", "Call the truck; stop transfer pumps at 95 %.")],
}


def seed_alarms(stdout) -> None:
    from apps.wells.models import Field
    from scada.alarms.models import AlarmDefinition, AlarmNotificationRule
    from scada.alarms.services import ensure_alarm
    from scada.models import Tag

    count = 0
    for tag in Tag.objects.filter(device__site__field__code="NORTH"):
        suffix = tag.name.split(".", 1)[-1]
        for kind, setpoint, deadband, priority, message, action in DEFINITIONS.get(suffix, []):
            defn, _ = AlarmDefinition.objects.update_or_create(tag=tag, kind=kind, defaults={
                "setpoint": setpoint, "deadband": deadband, "priority": priority, "message": message,
                "operator_action": action, "on_delay_s": 2 if kind != "COMM" else 5,
            })
            ensure_alarm(defn)
            count += 1
    north = Field.objects.filter(code="NORTH").first()
    if north is not None:
        AlarmNotificationRule.objects.update_or_create(name="NORTH high and critical to supervisors", defaults={
            "min_priority": "high", "field": north, "role": "supervisor"})
    stdout.write(f"Seeded {count} alarm definitions on the demo tags.")
