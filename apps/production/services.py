"""Production rules: well-test review and PRODML-style back-allocation.

Back-allocation of a meter over a period (one day or a month):

1. the meter's measured volume = sum over the period's days of gross reading x meter factor (every day needs a
   reading);
2. each well's theoretical volume = sum over the days of (rate of its latest VALIDATED test on or before the day) x
   (hours on that day / 24);
3. factor = measured / sum of theoretical volumes;
4. each well's allocated volume = measured x theoretical / total, in Decimal, rounded to 0.001 with the
   largest-remainder rule so the allocated volumes sum exactly to the measured volume.

A well with hours on but no validated test is reported (line status ``no_valid_test``, the run ``complete=False``
with an issue naming it), never silently given zero; a well with no hours on is ``shut_in`` (allocated 0).
Rerunning the same meter and period replaces the run's lines: the result is the same, nothing is duplicated.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from rest_framework.exceptions import ValidationError

from apps.core.api.exceptions import Conflict
from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.production.choices import AllocationLineStatus, Phase, WellTestStatus
from apps.production.models import (
    AllocationLine,
    AllocationRun,
    DailyWellProduction,
    Meter,
    MeterReading,
    WellTest,
)

QUANTUM = Decimal("0.001")
ALLOCATED_FIELD = {Phase.OIL: "allocated_oil_m3", Phase.GAS: "allocated_gas_sm3", Phase.WATER: "allocated_water_m3"}


@transaction.atomic
def review_test(test: WellTest, validated: bool, note: str = "") -> WellTest:
    test = WellTest.objects.select_for_update().get(pk=test.pk)
    if test.status != WellTestStatus.PENDING:
        raise Conflict(f"The test is already {test.get_status_display().lower()}.")
    new = WellTestStatus.VALIDATED if validated else WellTestStatus.REJECTED
    if not validated and not note.strip():
        raise ValidationError({"note": ["Say why the test is rejected."]})
    record(AuditAction.TRANSITION, test, changes={"status": [test.status, new]}, message=note)
    test.status = new
    test.review_note = note[:200]
    test.save()
    return test


def largest_remainder(total: Decimal, weights: dict, quantum: Decimal = QUANTUM) -> dict:
    """Split ``total`` (a multiple of ``quantum``) in proportion to ``weights`` so the parts sum exactly to it:
    each part is rounded down to the quantum, and the leftover quanta go one each to the largest remainders
    (ties: the key's order)."""
    weight_sum = sum(weights.values(), Decimal(0))
    if weight_sum <= 0:
        raise ValueError("Nothing to share in proportion to.")
    exact = {k: total * w / weight_sum for k, w in weights.items()}
    floors = {k: v.quantize(quantum, rounding=ROUND_DOWN) for k, v in exact.items()}
    leftover = int(((total - sum(floors.values(), Decimal(0))) / quantum).to_integral_value())
    order = sorted(weights, key=lambda k: (-(exact[k] - floors[k]), str(k)))
    for k in order[:leftover]:
        floors[k] += quantum
    return floors


def _days(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


@transaction.atomic
def allocate(meter: Meter, period_start: dt.date, period_end: dt.date) -> AllocationRun:
    if period_end < period_start:
        raise ValidationError({"period_end": ["The period ends before it starts."]})
    days = list(_days(period_start, period_end))
    readings = {r.reading_date: r for r in MeterReading.objects.select_related("meter").filter(
        meter=meter, reading_date__range=(period_start, period_end))}
    missing = [d.isoformat() for d in days if d not in readings]
    if missing:
        raise ValidationError({"meter": [f"No reading of meter {meter.code} on {', '.join(missing[:10])}."]})
    measured = sum((readings[d].corrected_volume for d in days), Decimal(0)).quantize(QUANTUM)

    wells = list(meter.wells.order_by("name"))
    if not wells:
        raise ValidationError({"meter": [f"Meter {meter.code} has no wells to allocate to."]})
    daily = {(p.well_id, p.prod_date): p for p in DailyWellProduction.objects.filter(
        well__in=wells, prod_date__range=(period_start, period_end))}
    tests = {}
    for t in WellTest.objects.filter(well__in=wells, status=WellTestStatus.VALIDATED,
                                     test_date__lte=period_end).order_by("test_date", "created_at"):
        tests.setdefault(t.well_id, []).append(t)

    lines, issues, weights = [], [], {}
    for well in wells:
        hours = Decimal(0)
        theoretical = Decimal(0)
        used_test = None
        no_test_days, no_record_days = [], []
        for day in days:
            record_ = daily.get((well.pk, day))
            if record_ is None:
                no_record_days.append(day)
                continue
            if not record_.hours_on:
                continue
            hours += record_.hours_on
            valid = [t for t in tests.get(well.pk, []) if t.test_date <= day]
            if not valid:
                no_test_days.append(day)
                continue
            used_test = valid[-1]
            theoretical += used_test.rate(meter.phase) * record_.hours_on / Decimal(24)
        line = AllocationLine(well=well, well_test=used_test, hours_on=hours, theoretical_volume=theoretical,
                              test_rate=used_test.rate(meter.phase) if used_test else None)
        if no_test_days:
            line.status = AllocationLineStatus.NO_VALID_TEST
            line.note = f"No validated test on or before {no_test_days[0].isoformat()} ({len(no_test_days)} day(s))."
            issues.append(f"{well.name}: {line.note}")
        elif no_record_days and hours == 0:
            line.status = AllocationLineStatus.NO_DAILY_RECORD
            line.note = f"No daily production record for {len(no_record_days)} day(s)."
            issues.append(f"{well.name}: {line.note}")
        elif hours == 0:
            line.status = AllocationLineStatus.SHUT_IN
            line.allocated_volume = Decimal("0.000")
        else:
            line.status = AllocationLineStatus.ALLOCATED
            if no_record_days:
                line.note = f"No daily record for {len(no_record_days)} day(s): counted as 0 h."
                issues.append(f"{well.name}: {line.note}")
        if line.status == AllocationLineStatus.ALLOCATED and theoretical > 0:
            weights[well.pk] = theoretical
        lines.append(line)

    total_theoretical = sum(weights.values(), Decimal(0))
    if total_theoretical <= 0:
        if measured > 0:
            raise ValidationError({"meter": [f"Meter {meter.code} measured {measured} but no well has a validated "
                                             f"test and hours on: nothing to allocate to. " + "; ".join(issues)]})
        shares = {}
        factor = Decimal(0)
    else:
        shares = largest_remainder(measured, weights)
        factor = (measured / total_theoretical).quantize(Decimal("0.00000001"))
    for line in lines:
        if line.well_id in shares:
            line.allocated_volume = shares[line.well_id]

    run, _ = AllocationRun.objects.select_for_update().update_or_create(
        meter=meter, period_start=period_start, period_end=period_end,
        defaults={"measured_volume": measured, "theoretical_volume": total_theoretical.quantize(Decimal("0.000001")),
                  "allocation_factor": factor, "complete": not issues, "issues": issues})
    run.lines.all().delete()
    for line in lines:
        line.run = run
        line.theoretical_volume = line.theoretical_volume.quantize(Decimal("0.000001"))
        line.save()
    if period_start == period_end:  # a daily run also stamps the wells' daily records
        field = ALLOCATED_FIELD[meter.phase]
        for line in lines:
            record_ = daily.get((line.well_id, period_start))
            if record_ is not None and getattr(record_, field) != line.allocated_volume:
                setattr(record_, field, line.allocated_volume)
                record_.save(update_fields=[field])
    return run
