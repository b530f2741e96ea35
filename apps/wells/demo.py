"""Demo data of the operations apps for ``manage.py seed_demo`` (idempotent: natural keys + update_or_create).

Field NORTH (from the core loader): 2 pads, 6 wells with wellbores, completions and definitive surveys, a reservoir and
a PVT sample; a rig with 5 days of DDRs (time logs, NPT, bit, BHA with jar and motor, mud); 30 days of daily
production, well tests, meter readings and allocation runs; a tool catalogue, a CT reel, a job and 2 toolstrings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

WELLS = [  # name, pad, type, status, oil test rate m³/d, kick-off/build profile (final inc, azimuth)
    ("A-01", "PAD-A", "producer", "producing", Decimal("42.5"), (0, 0)),
    ("A-02", "PAD-A", "producer", "producing", Decimal("28.0"), (35, 120)),
    ("A-03", "PAD-A", "producer", "producing", Decimal("19.5"), (60, 210)),
    ("B-01", "PAD-B", "producer", "producing", Decimal("33.0"), (25, 45)),
    ("B-02", "PAD-B", "injector", "injecting", Decimal("0"), (15, 300)),
    ("B-03", "PAD-B", "producer", "drilling", Decimal("0"), (45, 90)),
]


def D(x) -> Decimal:  # noqa: N802
    return Decimal(str(x))


def seed_operations(stdout) -> None:
    from apps.wells.models import Field, Site

    if not Field.objects.filter(code="NORTH").exists() or not Site.objects.filter(code="PAD-A").exists():
        stdout.write("Operations demo skipped: the core demo field NORTH is missing.")
        return
    wells = _wells(stdout)
    _drilling(wells["B-03"])
    _production(wells)
    _intervention(wells)
    stdout.write("Seeded 6 wells with wellbores, completions and surveys; a rig with 5 DDRs; 30 days of production, "
                 "well tests and an allocation; a tool catalogue, a CT reel and 2 toolstrings.")


def _wells(stdout):
    from apps.wells import services
    from apps.wells.models import (
        Completion,
        CompletionRestriction,
        Field,
        PvtSample,
        Reservoir,
        Site,
        SurveyStation,
        Trajectory,
        Well,
        Wellbore,
    )

    north = Field.objects.get(code="NORTH")
    reservoir, _ = Reservoir.objects.update_or_create(
        field=north, name="Wolfcamp A", defaults={"formation": "Wolfcamp", "fluid_type": "black_oil",
                                                  "top_tvd_m": D(2410), "initial_pressure_kpa": D(27580),
                                                  "temperature_c": D(82)})
    out = {}
    for i, (name, pad, kind, status, _rate, (final_inc, azi)) in enumerate(WELLS):
        site = Site.objects.get(code=pad)
        well, _ = Well.objects.update_or_create(
            name=name, defaults={"site": site, "uwi": f"42-317-4{i + 1:04d}", "well_type": kind, "status": status,
                                 "datum_type": "RKB", "datum_elevation_m": D("873.4") + i,
                                 "ground_elevation_m": D("865.0") + i,
                                 "surface_latitude": site.latitude, "surface_longitude": site.longitude,
                                 "spud_date": dt.date(2025, 3 + i, 1),
                                 "completion_date": None if status == "drilling" else dt.date(2025, 4 + i, 10)})
        out[name] = well
        total = D(3000) if status != "drilling" else D(2650)
        bore, _ = Wellbore.objects.update_or_create(well=well, name="OH", defaults={
            "status": "drilling" if status == "drilling" else "active", "total_md": total})
        if name == "A-03":
            Wellbore.objects.update_or_create(well=well, name="ST1", defaults={
                "parent": bore, "kickoff_md": D(1800), "total_md": D(3150), "status": "active"})
        if status != "drilling":
            comp, _ = Completion.objects.update_or_create(wellbore=bore, name="2-7/8in production tubing", defaults={
                "tubing_od_mm": D("73.02"), "tubing_id_mm": D("62.00"), "tubing_shoe_md": D(2380),
                "installed_on": dt.date(2025, 4 + i, 8), "reservoir": reservoir})
            for depth, kind_, desc, min_id in ((D(450), "sssv", "SSSV landing nipple 2.313in", D("58.75")),
                                               (D(2250), "nipple", "X nipple 2.313in", D("58.75")),
                                               (D(2350), "no_go_nipple", "XN nipple 2.205in no-go", D("56.01"))):
                CompletionRestriction.objects.update_or_create(completion=comp, depth_md=depth, defaults={
                    "kind": kind_, "description": desc, "min_id_mm": min_id})
        traj, _ = Trajectory.objects.update_or_create(wellbore=bore, name="MWD definitive", defaults={
            "definitive": True, "survey_company": "Demo Surveys", "azimuth_reference": "grid"})
        for md in range(0, int(total) + 1, 300):
            build = 0.0 if md <= 900 else min(final_inc, (md - 900) * 3.0 / 30.0)
            SurveyStation.objects.update_or_create(trajectory=traj, md=D(md), defaults={
                "inclination": D(round(build, 3)), "azimuth": D(azi if build else 0)})
        services.recompute_trajectory(traj)
    PvtSample.objects.update_or_create(well=out["A-01"], sampled_on=dt.date(2025, 5, 2), defaults={
        "reservoir": reservoir, "kind": "bottomhole", "depth_md": D(2400), "laboratory": "Demo PVT Lab",
        "reservoir_pressure_kpa": D(27200), "reservoir_temperature_c": D(82), "bubble_point_kpa": D(14300),
        "solution_gor_sm3_sm3": D("118.5"), "oil_fvf": D("1.3120"), "oil_api_gravity": D("41.2"),
        "oil_viscosity_cp": D("0.62"), "gas_specific_gravity": D("0.780")})
    return out


def _drilling(well):
    from apps.drilling import services
    from apps.drilling.models import (
        BhaComponent,
        BhaRun,
        BitRecord,
        DrillingReport,
        IadcActivity,
        MudRecord,
        MudUsage,
        Rig,
        TimeLogRow,
    )
    from apps.wells.models import Site

    rig, _ = Rig.objects.update_or_create(name="Demo Rig 12", defaults={
        "contractor": "Demo Drilling Co", "rig_type": "land", "site": Site.objects.get(code="PAD-B")})
    bore = well.wellbores.get(name="OH")
    code = {f"{a.code}{a.subcode}": a for a in IadcActivity.objects.all()}
    bit, _ = BitRecord.objects.update_or_create(wellbore=bore, bit_number="4", defaults={
        "size_mm": D("215.90"), "iadc_code": "M323", "manufacturer": "Demo Bits", "serial_number": "PDC-88412",
        "tfa_mm2": D(580), "depth_in": D(1850), "depth_out": None, "hours": D("61.5")})
    for n, depth_in, hours in ((1, D(1850), D("38.5")), (2, D(2290), D("23.0"))):
        run, _ = BhaRun.objects.update_or_create(wellbore=bore, run_number=n, defaults={
            "bit": bit, "depth_in": depth_in, "hours": hours, "purpose": "8-1/2in build section"})
        parts = [("bit", "PDC 8-1/2in", "PDC-88412", D("215.9"), None, D("0.30"), "4-1/2 REG"),
                 ("motor", "6-3/4in PDM 1.5deg", f"MTR-{600 + n}", D("171.5"), None, D("8.20"), "4-1/2 IF"),
                 ("mwd", "MWD gamma", "MWD-3301", D("171.5"), D("71.4"), D("9.60"), "4-1/2 IF"),
                 ("drill_collar", "6-1/2in NMDC", "NM-221", D("165.1"), D("71.4"), D("9.10"), "4-1/2 IF"),
                 ("jar", "6-1/2in hydraulic jar", "JAR-5120", D("165.1"), D("69.9"), D("9.75"), "4-1/2 IF"),
                 ("hwdp", "5in HWDP x 15", "", D("127.0"), D("76.2"), D("138.0"), "4-1/2 IF")]
        for pos, (kind, desc, serial, od, id_, length, conn) in enumerate(parts, start=1):
            BhaComponent.objects.update_or_create(bha=run, position=pos, defaults={
                "component_type": kind, "description": desc, "serial_number": serial, "od_mm": od, "id_mm": id_,
                "length_m": length, "top_connection": conn, "bottom_connection": conn})
    start = dt.date.today() - dt.timedelta(days=5)
    depth = D(2100)
    for day in range(5):
        date = start + dt.timedelta(days=day)
        report, created = DrillingReport.objects.get_or_create(wellbore=bore, report_date=date, defaults={
            "rig": rig, "report_number": 20 + day, "daily_cost": D(46000 + 1500 * day), "personnel_on_board": 36 + day,
            "depth_md": depth + 110 * (day + 1), "operations_summary": "Drilled 8-1/2in build section.",
            "forecast": "Drill ahead to section TD."})
        if not created:
            continue
        rows = [("06:00", "10:30", "2B", "Slide drill 8-1/2in hole", False),
                ("10:30", "11:00", "10", "Survey", False),
                ("11:00", "17:00", "2A", "Rotary drill 8-1/2in hole", False),
                ("17:00", "18:00", "7", "Service rig", False)]
        if day == 2:
            rows += [("18:00", "21:30", "8", "Repair top drive hydraulic leak", True),
                     ("21:30", "06:00", "2A", "Rotary drill 8-1/2in hole", False)]
        else:
            rows += [("18:00", "06:00", "2A", "Rotary drill 8-1/2in hole", False)]
        md = depth + 110 * day
        for a, b, c, desc, npt in rows:
            TimeLogRow.objects.create(report=report, start_time=dt.time.fromisoformat(a),
                                      end_time=dt.time.fromisoformat(b), activity=code[c], description=desc,
                                      md_from=md, md_to=md + 20, npt=npt,
                                      npt_category="rig_equipment" if npt else "",
                                      responsible_party="contractor" if npt else "")
            md += 20
        MudRecord.objects.create(report=report, checked_at=dt.time(14), depth_md=md, mud_type="wbm",
                                 density_kg_m3=D(1150 + 5 * day), funnel_viscosity_s=D(48), plastic_viscosity_cp=D(18),
                                 yield_point_pa=D(9), ph=D("9.5"))
        MudUsage.objects.create(report=report, product="Barite", item_code="MUD-BAR-50", quantity=D(20 + 4 * day),
                                unit="sack", unit_cost=D("14.50"))
        if day < 4:
            services.submit(report)
        if day < 3:
            services.approve(report, None)
    return rig


def _production(wells):
    from apps.production import services
    from apps.production.models import DailyWellProduction, Meter, MeterReading, WellTest
    from apps.wells.models import Site

    producers = [wells[n] for n in ("A-01", "A-02", "A-03", "B-01")]
    rates = {row[0]: row[4] for row in WELLS}
    meter, _ = Meter.objects.update_or_create(code="NORTH-LACT-1", defaults={
        "name": "North LACT unit", "site": Site.objects.get(code="GS-1"), "kind": "fiscal", "phase": "oil",
        "meter_factor": D("0.9987")})
    meter.wells.set(producers)
    today = dt.date.today()
    first = today - dt.timedelta(days=30)
    for w in producers:
        base = rates[w.name]
        for k, test_day in enumerate((first - dt.timedelta(days=3), first + dt.timedelta(days=14))):
            WellTest.objects.update_or_create(well=w, test_date=test_day, defaults={
                "duration_hours": D(12), "choke_64ths": D(32), "oil_rate_m3d": base - k * D("1.5"),
                "gas_rate_sm3d": (base - k * D("1.5")) * D(120), "water_rate_m3d": base * D("0.35"),
                "tubing_pressure_kpa": D(3100), "casing_pressure_kpa": D(4200), "separator_pressure_kpa": D(690),
                "status": "validated"})
        WellTest.objects.update_or_create(well=w, test_date=first + dt.timedelta(days=20), defaults={
            "duration_hours": D(4), "oil_rate_m3d": base * 2, "gas_rate_sm3d": base * 200, "water_rate_m3d": D(1),
            "status": "rejected", "review_note": "Separator dump valve stuck: unstable rates."})
    for i in range(30):
        day = first + dt.timedelta(days=i)
        total = D(0)
        for w in producers:
            hours = D(24) if not (w.name == "A-03" and 10 <= i <= 12) else D(0)
            reason = "" if hours == 24 else "artificial_lift"
            oil = (rates[w.name] * hours / 24).quantize(D("0.001"))
            DailyWellProduction.objects.update_or_create(well=w, prod_date=day, defaults={
                "hours_on": hours, "downtime_reason": reason, "choke_64ths": D(32), "tubing_pressure_kpa": D(3050),
                "casing_pressure_kpa": D(4150), "oil_m3": oil, "gas_sm3": oil * 120, "water_m3": oil * D("0.35")})
            total += oil
        MeterReading.objects.update_or_create(meter=meter, reading_date=day, defaults={
            "gross_volume": (total * D("0.97") + D(i % 3)).quantize(D("0.001"))})
    services.allocate(meter, today - dt.timedelta(days=1), today - dt.timedelta(days=1))
    services.allocate(meter, first, today - dt.timedelta(days=1))


def _intervention(wells):
    from apps.intervention import services
    from apps.intervention.api.serializers import spec_of
    from apps.intervention.models import CoiledTubingReel, InterventionJob, ToolComponent, Toolstring
    from apps.wells.models import Site

    thread = "15/16-10 UN"
    catalogue = [  # code, name, type, od, fn od, length, weight, rotating
        ("RS-NR-150", "Rope socket, non-rotating 1.5in", "rope_socket", "38.10", "34.93", "0.300", "2.2", False),
        ("SW-150", "Swivel joint 1.5in", "swivel", "38.10", "34.93", "0.280", "2.0", True),
        ("ST-150-5", "Stem 1.5in x 5ft", "stem", "38.10", "34.93", "1.524", "11.5", True),
        ("ST-175-5T", "Tungsten stem 1.75in x 5ft", "stem", "44.45", "34.93", "1.524", "29.0", True),
        ("JS-150", "Spang jar 1.5in (20in stroke)", "jar", "38.10", "34.93", "1.350", "8.0", True),
        ("JH-150", "Hydraulic jar 1.5in", "jar", "38.10", "34.93", "1.100", "7.5", True),
        ("KJ-150", "Knuckle joint 1.5in", "knuckle_joint", "38.10", "34.93", "0.300", "1.8", True),
        ("GS-2", "GS pulling tool 2in", "pulling_tool", "46.00", "34.93", "0.450", "3.1", True),
        ("RT-X-2313", "X running tool 2.313in", "running_tool", "57.15", "34.93", "0.560", "3.9", True),
        ("GC-52", "Gauge cutter 52 mm", "gauge_cutter", "52.00", "34.93", "0.250", "2.6", True),
    ]
    comps = {}
    for code, name, kind, od, fn, length, weight, rotating in catalogue:
        comps[code], _ = ToolComponent.objects.update_or_create(code=code, defaults={
            "name": name, "tool_type": kind, "od_mm": D(od), "fishing_neck_od_mm": D(fn), "length_m": D(length),
            "weight_kg": D(weight), "rotating": rotating, "top_connection": "" if kind == "rope_socket" else thread,
            "top_gender": "" if kind == "rope_socket" else "box", "bottom_connection": thread,
            "bottom_gender": "pin"})
    reel, _ = CoiledTubingReel.objects.update_or_create(serial_number="CT-1750-0042", defaults={
        "site": Site.objects.get(code="PAD-A"), "od_mm": D("44.45"), "wall_thickness_mm": D("3.40"),
        "grade": "CT90", "length_m": D(4800), "running_length_m": D(21500), "fatigue_pct": D("27.50")})
    job, _ = InterventionJob.objects.update_or_create(
        well=wells["A-02"], job_type="slickline", planned_start=dt.date.today() + dt.timedelta(days=3), defaults={
            "objective": "Pull XN plug, gauge run", "crew": "Slickline supervisor\nOperator",
            "contractor": "Demo Wireline", "cost_reference": "AFE-2026-017"})
    InterventionJob.objects.update_or_create(
        well=wells["A-03"], job_type="coiled_tubing", planned_start=dt.date.today() + dt.timedelta(days=10),
        defaults={"objective": "Nitrogen lift", "reel": reel, "cost_reference": "AFE-2026-021"})
    strings = [
        ("00000000-0000-4000-8000-00000000a001", "A-01 gauge run", wells["A-01"], "Gauge run", None,
         ["RS-NR-150", "SW-150", "ST-150-5", "ST-150-5", "JS-150", "KJ-150", "GC-52"]),
        ("00000000-0000-4000-8000-00000000a002", "A-02 pull XN plug", wells["A-02"], "Fishing", job,
         ["RS-NR-150", "ST-175-5T", "ST-150-5", "JH-150", "JS-150", "KJ-150", "GS-2"]),
    ]
    for pk, name, well, op, job_, codes in strings:
        ts = Toolstring.objects.filter(pk=pk).first()
        if ts is None:
            ts = Toolstring(id=pk, name=name, well=well, operation_type=op, job=job_, wire_size_mm=D("2.34"),
                            whp_kpa=D(6900), lubricator_length_m=D("9.00"), metadata={"createdBy": "demo"})
            services.save_toolstring(ts, [spec_of(comps[c], comps[c].pk) for c in codes])
