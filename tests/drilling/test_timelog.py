"""The 24 h time-log rules, each with a case that breaks only that rule."""

import datetime as dt
from types import SimpleNamespace as Row

from apps.drilling.timelog import check_rows

SIX = dt.time(6, 0)


def r(a, b):
    return Row(start_time=dt.time.fromisoformat(a), end_time=dt.time.fromisoformat(b))


def rules(rows, day_start=SIX):
    return {(p.rule, p.rows) for p in check_rows(rows, day_start)}


def test_contiguous_rows_across_midnight_totalling_24h_are_valid():
    assert check_rows([r("06:00", "12:00"), r("12:00", "23:30"), r("23:30", "02:00"), r("02:00", "06:00")], SIX) == []


def test_rows_are_checked_in_time_order_not_entry_order():
    assert check_rows([r("02:00", "06:00"), r("06:00", "14:00"), r("14:00", "02:00")], SIX) == []


def test_gap_names_the_rows():
    assert rules([r("06:00", "12:00"), r("12:30", "06:00")]) == {("gap", (1, 2)), ("total", (1, 2))}


def test_overlap_names_the_rows():
    found = rules([r("06:00", "12:00"), r("11:00", "18:00"), r("18:00", "06:00")])
    assert ("overlap", (1, 2)) in found and ("total", (1, 2, 3)) in found


def test_must_start_at_day_start_and_end_24h_later():
    assert ("first_start", (1,)) in rules([r("07:00", "06:00")])
    assert ("last_end", (2,)) in rules([r("06:00", "12:00"), r("12:00", "05:00")])


def test_empty_row():
    assert ("empty_row", (2,)) in rules([r("06:00", "12:00"), r("12:00", "12:00"), r("12:00", "06:00")])


def test_day_start_is_configurable():
    midnight = dt.time(0, 0)
    assert check_rows([r("00:00", "12:00"), r("12:00", "00:00")], midnight) == []
    assert ("first_start", (1,)) in rules([r("06:00", "06:00")], midnight)


def test_empty_log_is_refused():
    assert rules([]) == {("total", ())}
