"""Working days, half days and leave years: pure functions, no servers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hrms.leave.working_days import overlaps, working_days

D = dt.date


def _naive(start: dt.date, end: dt.date, weekend: set[int], holidays: set[dt.date]) -> int:
    days = (start + dt.timedelta(n) for n in range((end - start).days + 1))
    return sum(1 for d in days if d.isoweekday() not in weekend and d not in holidays)


def test_the_guides_week_is_five_days():
    assert working_days(D(2024, 2, 5), D(2024, 2, 9)) == 5


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2024, 2, 5), D(2024, 2, 11), 5),  # Monday to Sunday
        (D(2024, 2, 9), D(2024, 2, 12), 2),  # Friday to Monday
        (D(2024, 2, 10), D(2024, 2, 11), 0),  # a weekend only
        (D(2024, 2, 1), D(2024, 2, 29), 21),  # leap February
        (D(2024, 1, 1), D(2024, 12, 31), 262),
    ],
)
def test_weekend_days_are_not_counted(start, end, expected):
    assert working_days(start, end) == expected


def test_holidays_are_not_counted_and_a_weekend_holiday_is_not_taken_twice():
    holidays = {D(2024, 2, 7), D(2024, 2, 10), D(2024, 3, 1)}  # a Wednesday, a Saturday, outside the range
    assert working_days(D(2024, 2, 5), D(2024, 2, 11), holidays=holidays) == 4


def test_the_tenants_weekend_applies():
    # Friday and Saturday off: Sunday 2024-02-04 .. Saturday 2024-02-10 has 5 working days, Friday excluded.
    assert working_days(D(2024, 2, 4), D(2024, 2, 10), weekend=[5, 6]) == 5
    assert working_days(D(2024, 2, 9), D(2024, 2, 9), weekend=[5, 6]) == 0
    assert working_days(D(2024, 2, 5), D(2024, 2, 11), weekend=[]) == 7


def test_arithmetic_matches_counting_day_by_day():
    holidays = {D(2024, 1, 26), D(2024, 3, 25), D(2024, 8, 15), D(2024, 10, 2), D(2024, 12, 28)}
    for weekend in ({6, 7}, {7}, {5, 6}, set()):
        for offset in range(0, 60, 7):
            start = D(2024, 1, 1) + dt.timedelta(offset)
            for length in (0, 1, 5, 6, 13, 30, 200):
                end = start + dt.timedelta(length)
                expected = _naive(start, end, weekend, holidays)
                assert working_days(start, end, weekend=weekend, holidays=holidays) == expected


def test_a_half_day_is_half_a_working_day():
    assert working_days(D(2024, 2, 5), D(2024, 2, 5), half_day="first") == Decimal("0.5")
    assert working_days(D(2024, 2, 5), D(2024, 2, 5), half_day="second") == Decimal("0.5")
    assert working_days(D(2024, 2, 10), D(2024, 2, 10), half_day="first") == 0  # a Saturday
    assert working_days(D(2024, 2, 7), D(2024, 2, 7), holidays={D(2024, 2, 7)}, half_day="first") == 0


def test_a_half_day_covers_one_date_only():
    with pytest.raises(ValueError, match="single date"):
        working_days(D(2024, 2, 5), D(2024, 2, 6), half_day="first")


@pytest.mark.parametrize("weekend", [[0], [8], [1, 9]])
def test_weekend_days_are_iso_weekdays(weekend):
    with pytest.raises(ValueError, match="ISO"):
        working_days(D(2024, 2, 5), D(2024, 2, 9), weekend=weekend)


def test_end_before_start_is_refused():
    with pytest.raises(ValueError, match="before start"):
        working_days(D(2024, 2, 9), D(2024, 2, 5))


def test_overlap_is_any_shared_date_except_opposite_halves():
    week = (D(2024, 2, 5), D(2024, 2, 9), None)
    assert overlaps(week, (D(2024, 2, 9), D(2024, 2, 12), None))
    assert not overlaps(week, (D(2024, 2, 10), D(2024, 2, 12), None))
    assert overlaps(week, (D(2024, 2, 6), D(2024, 2, 6), "first"))
    morning, afternoon = (D(2024, 2, 6), D(2024, 2, 6), "first"), (D(2024, 2, 6), D(2024, 2, 6), "second")
    assert not overlaps(morning, afternoon)
    assert overlaps(morning, morning)
