"""Demo data for ``manage.py seed_demo``: RTUs and tags for field NORTH (pads PAD-A and PAD-B), with wells W01..W04.

Then the other sources seed their own devices: the OPC-UA separation facility (scada.sim_opcua), the tank-gauging
CSV exports (scada.demo_csv) and the MQTT publishers (scada.sim_mqtt).

Each pad has one Modbus TCP RTU on 127.0.0.1 (RTU-1: PAD-A, port 15021; RTU-2: PAD-B, port 15022) that
``manage.py simulate_field`` serves. RTU-1 uses CDAB word order for its float32 values, RTU-2 ABCD; pressures
and tank levels are 4-20 mA loops read as raw counts (4000..20000 = 4..20 mA) on input registers; chokes are
writable setpoints.
"""

from __future__ import annotations

DEMO_PORTS = {"RTU-1": 15021, "RTU-2": 15022}
WELLS = {"W01": "PAD-A", "W02": "PAD-A", "W03": "PAD-B", "W04": "PAD-B"}


def _tags_for(well: str, index: int):
    """(suffix, description, register type, address, data type, scaling, eng range, unit, writable)."""
    b = index * 20  # each well owns a block of 20 registers of each table
    return [
        ("THP", "Tubing head pressure", "input", b + 0, "uint16", "ma_4_20", (0, 100), "bar", False),
        ("CHP", "Casing head pressure", "input", b + 1, "uint16", "ma_4_20", (0, 60), "bar", False),
        ("FLP", "Flowline pressure", "input", b + 2, "uint16", "ma_4_20", (0, 40), "bar", False),
        ("PIP", "ESP pump intake pressure", "input", b + 3, "uint16", "ma_4_20", (0, 200), "bar", False),
        ("FLT", "Flowline temperature", "holding", b + 0, "float32", "none", (-20, 150), "degC", False),
        ("ESP_AMPS", "ESP motor current", "holding", b + 2, "float32", "none", (0, 120), "A", False),
        ("ESP_HZ", "ESP frequency", "holding", b + 4, "float32", "none", (0, 70), "Hz", False),
        ("CHOKE", "Choke opening setpoint", "holding", b + 6, "float32", "none", (0, 100), "%", True),
        ("RUN", "ESP running", "coil", b + 0, "bool", "none", (None, None), "", True),
    ]


def seed_scada(stdout) -> None:
    from apps.wells.models import Site, Well
    from scada.models import Device, Tag

    sites = {s.code: s for s in Site.objects.filter(code__in=["PAD-A", "PAD-B"])}
    if len(sites) < 2:
        stdout.write("SCADA demo skipped: sites PAD-A/PAD-B are missing.")
        return
    wells = {}
    for n, (name, pad) in enumerate(WELLS.items(), start=1):
        well = Well.objects.filter(name=name).first()
        if well is None:  # the wells issue may seed them first; otherwise create the minimal well
            well, _ = Well.objects.update_or_create(name=name, defaults={"site": sites[pad],
                                                                         "uwi": f"42-501-9{n:04d}",
                                                                         "status": "producing"})
        wells[name] = well
    devices = {}
    for name, pad, order in (("RTU-1", "PAD-A", "CDAB"), ("RTU-2", "PAD-B", "ABCD")):
        devices[pad], _ = Device.objects.update_or_create(name=name, defaults={
            "site": sites[pad], "protocol": "modbus_tcp", "description": f"Wellhead RTU {pad}",
            "poll_interval_ms": 1000, "enabled": True,
            "connection": {"host": "127.0.0.1", "port": DEMO_PORTS[name], "unit_id": 1, "timeout_s": 1.0,
                           "word_order": order, "address_base": 0, "max_block_registers": 125,
                           "max_block_coils": 2000, "max_gap": 0}})
    count = 0
    per_pad = {"PAD-A": 0, "PAD-B": 0}
    for well_name, pad in WELLS.items():
        index = per_pad[pad]
        per_pad[pad] += 1
        for suffix, description, rtype, address, dtype, scaling, (low, high), unit, writable in _tags_for(
                well_name, index):
            defaults = {"device": devices[pad], "description": f"{well_name} {description}",
                        "address": {"register_type": rtype, "address": address}, "data_type": dtype,
                        "scaling": scaling, "eng_low": low, "eng_high": high, "unit": unit, "writable": writable,
                        "well": wells[well_name], "max_interval_s": 300,
                        "deadband": 0.5 if low is not None else 0.0,
                        "deadband_mode": "percent" if low is not None else "absolute"}
            if scaling == "ma_4_20":
                defaults.update(raw_low=4000.0, raw_high=20000.0)
            Tag.objects.update_or_create(name=f"{well_name}.{suffix}", defaults=defaults)
            count += 1
    for pad, device in devices.items():  # one production tank per pad, level on a 4-20 mA loop
        Tag.objects.update_or_create(name=f"{pad}.TANK_LVL", defaults={
            "device": device, "description": f"{pad} production tank level",
            "address": {"register_type": "input", "address": 100}, "data_type": "uint16", "scaling": "ma_4_20",
            "raw_low": 4000.0, "raw_high": 20000.0, "eng_low": 0.0, "eng_high": 100.0, "unit": "%",
            "deadband": 0.5, "deadband_mode": "percent", "max_interval_s": 300, "writable": False})
        count += 1
    stdout.write(f"Seeded SCADA: 2 Modbus RTUs (ports {DEMO_PORTS['RTU-1']}/{DEMO_PORTS['RTU-2']}), {count} tags, "
                 "wells W01-W04.")
    # The other sources: the OPC-UA separation facility on PAD-A, the tank-gauging CSV exports.
    from scada.demo_csv import seed_csv_demo
    from scada.demo_templates import seed_tag_templates
    from scada.sim_mqtt import seed_mqtt_demo
    from scada.sim_opcua import seed_opcua_demo

    seed_opcua_demo(stdout)
    seed_mqtt_demo(stdout)
    seed_csv_demo(stdout)
    seed_tag_templates(stdout)
