"""Demo tag template for ``manage.py seed_demo``: "ESP well (Modbus)", the nine tags scada.demo creates per well.

Applied with the well's name as prefix and ``offset = 20 x the well's index on its pad`` (each well owns a block of 20
registers of each table on the pad's RTU) it gives the same addresses, ranges and scaling as scada/demo.py, and the
HH/H/L/LL alarm limits of scada/alarms/demo.py.
"""

from __future__ import annotations

ESP_WELL_TEMPLATE = "ESP well (Modbus)"


def esp_well_items() -> list[dict]:
    """The items of the template: scada.demo's per-well tags at offset 0, with the demo alarm limits."""
    from scada.alarms.demo import DEFINITIONS
    from scada.demo import _tags_for

    items = []
    for suffix, description, rtype, address, dtype, scaling, (low, high), unit, writable in _tags_for("", 0):
        alarms = [{"kind": kind, "setpoint": setpoint, "deadband": deadband, "priority": priority,
                   "message": message, "operator_action": action, "on_delay_s": 2}
                  for kind, setpoint, deadband, priority, message, action in DEFINITIONS.get(suffix, [])
                  if kind in ("HH", "H", "L", "LL")]
        item = {"suffix": suffix, "description": description, "address": {"register_type": rtype, "address": address},
                "data_type": dtype, "scaling": scaling, "eng_low": low, "eng_high": high, "unit": unit,
                "writable": writable, "max_interval_s": 300, "deadband": 0.5 if low is not None else 0.0,
                "deadband_mode": "percent" if low is not None else "absolute", "alarms": alarms}
        if scaling == "ma_4_20":
            item.update(raw_low=4000.0, raw_high=20000.0)
        items.append(item)
    return items


def seed_tag_templates(stdout) -> None:
    """Create or update the demo template (idempotent: an unchanged template keeps its version)."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from scada.models import TagTemplate, TagTemplateItem

    with transaction.atomic():
        template = TagTemplate.objects.filter(name=ESP_WELL_TEMPLATE).first()
        created = template is None
        if created:
            template = TagTemplate(name=ESP_WELL_TEMPLATE, protocol="modbus_tcp")
        description = ("Producing well on ESP lift: wellhead pressures (4-20 mA), flowline temperature, ESP current "
                       "and frequency, choke setpoint, run status. Offset: 20 registers per well.")
        if created or template.description != description:
            template.description = description
            template.save()
        with template.editing(bump=not created):
            current = {item.suffix: item for item in template.items.all()}
            for data in esp_well_items():
                item = current.pop(data["suffix"], None) or TagTemplateItem(template=template)
                for attr, value in data.items():
                    setattr(item, attr, value)
                try:
                    item.full_clean()
                except ValidationError as exc:
                    raise ValidationError({f"items.{data['suffix']}.{k}": v for k, v in exc.message_dict.items()})
                item.save()
            for item in current.values():
                item.delete()
    template.refresh_from_db()
    stdout.write(f"Seeded tag template {template.name!r} v{template.version} ({template.items.count()} items).")
