"""The IADC time-log rules of a daily drilling report (pure functions, no database).

A report covers 24 h from ``day_start`` (06:00 site time by default) to the same time the next day. Times are
wall-clock ``time`` values; ``day_start`` as an end time means the end of the report day (24 h). Rows, in time order,
must:

1. start at the report's day start (``first_start``);
2. each last more than zero minutes (``empty_row``);
3. follow each other without a gap (``gap``) and without overlapping (``overlap``);
4. end at the day start of the next day (``last_end``) and total exactly 24 h (``total``).

``check_rows`` returns every broken rule with the 1-based row numbers (in time order) involved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DAY = 24 * 60


@dataclass(frozen=True)
class Problem:
    rule: str
    rows: tuple[int, ...]
    message: str


def minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def offsets(start: dt.time, end: dt.time, day_start: dt.time) -> tuple[int, int]:
    """(start, end) in minutes from the report's day start; an end at the day start is the end of the day."""
    s = (minutes(start) - minutes(day_start)) % DAY
    e = (minutes(end) - minutes(day_start)) % DAY
    if e == 0:
        e = DAY
    return s, e


def fmt(offset: int, day_start: dt.time) -> str:
    total = (minutes(day_start) + offset) % DAY
    return f"{total // 60:02d}:{total % 60:02d}"


def sort_key(row, day_start: dt.time):
    return offsets(row.start_time, row.end_time, day_start)


def check_rows(rows, day_start: dt.time) -> list[Problem]:
    """Rows: objects with ``start_time`` and ``end_time``. Returns the problems (empty: the log is valid)."""
    problems: list[Problem] = []
    ordered = sorted(rows, key=lambda r: sort_key(r, day_start))
    if not ordered:
        return [Problem("total", (), "The time log is empty: it must cover 24 h.")]
    spans = [offsets(r.start_time, r.end_time, day_start) for r in ordered]
    if spans[0][0] != 0:
        problems.append(Problem("first_start", (1,), f"Row 1 starts at {fmt(spans[0][0], day_start)}, not at the "
                                                     f"report's day start {day_start:%H:%M}."))
    for n, (s, e) in enumerate(spans, start=1):
        if e <= s:
            problems.append(Problem("empty_row", (n,), f"Row {n} ({fmt(s, day_start)}-{fmt(e, day_start)}) does not "
                                                       f"last more than zero minutes."))
    for n in range(1, len(spans)):
        prev_end, start = spans[n - 1][1], spans[n][0]
        if start > prev_end:
            problems.append(Problem("gap", (n, n + 1), f"Gap between row {n} (ends {fmt(prev_end, day_start)}) and "
                                                       f"row {n + 1} (starts {fmt(start, day_start)})."))
        elif start < prev_end:
            problems.append(Problem("overlap", (n, n + 1), f"Rows {n} and {n + 1} overlap: row {n} ends "
                                                           f"{fmt(prev_end, day_start)}, row {n + 1} starts "
                                                           f"{fmt(start, day_start)}."))
    if spans[-1][1] != DAY:
        problems.append(Problem("last_end", (len(spans),), f"Row {len(spans)} ends at {fmt(spans[-1][1], day_start)},"
                                                           f" not at the next day's {day_start:%H:%M}."))
    total = sum(max(0, e - s) for s, e in spans)
    if total != DAY:
        problems.append(Problem("total", tuple(range(1, len(spans) + 1)),
                                f"The rows total {total // 60} h {total % 60:02d} min, not 24 h."))
    return problems


def duration_hours(row, day_start: dt.time) -> float:
    s, e = offsets(row.start_time, row.end_time, day_start)
    return max(0, e - s) / 60.0
