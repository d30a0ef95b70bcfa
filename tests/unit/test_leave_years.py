"""Leave years as data (hrms.leave.years): bounds, a start-month change at the next turn, shares.

Every expectation is written out by hand from the rules in the module's docstring.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hrms.leave.years import LeaveYear, LeaveYears

D = dt.date


def year(name: int, first: dt.date, last: dt.date) -> LeaveYear:
    return LeaveYear(name, first, last)


def test_without_opened_years_a_year_starts_in_the_start_month():
    april = LeaveYears.of([], 4)
    assert april.containing(D(2026, 3, 31)) == year(2025, D(2025, 4, 1), D(2026, 3, 31))
    assert april.containing(D(2026, 4, 1)) == year(2026, D(2026, 4, 1), D(2027, 3, 31))
    january = LeaveYears.of([], 1)
    assert january.containing(D(2026, 12, 31)) == year(2026, D(2026, 1, 1), D(2026, 12, 31))
    assert april.named(2030) == year(2030, D(2030, 4, 1), D(2031, 3, 31))


def test_opened_years_keep_their_bounds_whatever_the_setting_says():
    opened = [year(2026, D(2026, 1, 1), D(2026, 12, 31))]
    now_april = LeaveYears.of(opened, 4)
    assert now_april.containing(D(2026, 6, 15)) == opened[0]
    assert now_april.named(2026) == opened[0]


def test_a_change_to_april_after_a_january_year_gives_one_15_month_year():
    years = LeaveYears.of([year(2026, D(2026, 1, 1), D(2026, 12, 31))], 4)
    transition = years.containing(D(2027, 2, 1))
    assert transition == year(2027, D(2027, 1, 1), D(2028, 3, 31))
    assert transition.months == 15
    assert years.containing(D(2028, 4, 1)) == year(2028, D(2028, 4, 1), D(2029, 3, 31))
    assert years.named(2028).months == 12


def test_a_change_to_january_after_an_april_year_gives_one_9_month_year():
    years = LeaveYears.of([year(2026, D(2026, 4, 1), D(2027, 3, 31))], 1)
    assert years.containing(D(2027, 4, 1)) == year(2027, D(2027, 4, 1), D(2027, 12, 31))
    assert years.containing(D(2027, 4, 1)).months == 9
    assert years.containing(D(2028, 1, 1)) == year(2028, D(2028, 1, 1), D(2028, 12, 31))


def test_days_before_the_first_opened_year_follow_its_start_month():
    years = LeaveYears.of([year(2026, D(2026, 4, 1), D(2027, 3, 31))], 1)
    assert years.containing(D(2026, 3, 31)) == year(2025, D(2025, 4, 1), D(2026, 3, 31))


def test_following_walks_opened_years_then_the_setting():
    first = year(2025, D(2025, 4, 1), D(2026, 3, 31))
    second = year(2026, D(2026, 4, 1), D(2027, 3, 31))
    years = LeaveYears.of([second, first], 4)
    assert years.following(first) == second
    assert years.following(second) == year(2027, D(2027, 4, 1), D(2028, 3, 31))


def test_a_bad_start_month_is_refused():
    with pytest.raises(ValueError):
        LeaveYears.of([], 13)


@pytest.mark.parametrize(
    ("quota", "joined", "allocated"),
    [
        ("18", D(2025, 1, 1), "18"),  # whole year
        ("18", D(2024, 6, 1), "18"),  # joined before the year: a full share
        ("18", D(2025, 1, 31), "18"),  # the joining month counts in full
        ("18", D(2025, 7, 15), "9"),  # 6 months
        ("12", D(2025, 12, 31), "1"),  # 1 month
        ("10", D(2025, 8, 1), "4"),  # 10 * 5/12 = 4.17 -> 4.0
        ("10", D(2025, 9, 1), "3.5"),  # 10 * 4/12 = 3.33 -> 3.5
        ("9", D(2025, 11, 1), "1.5"),  # 9 * 2/12 = 1.5 exactly
        ("3", D(2025, 12, 1), "0.5"),  # 3 * 1/12 = 0.25 -> halves round up to 0.5
        ("0", D(2025, 3, 1), "0"),
    ],
)
def test_a_calendar_year_share_is_pro_rata_to_the_nearest_half_day(quota, joined, allocated):
    calendar_2025 = year(2025, D(2025, 1, 1), D(2025, 12, 31))
    assert calendar_2025.share(Decimal(quota), joined) == Decimal(allocated)


def test_an_april_year_counts_months_from_the_joining_month_to_march():
    fiscal = year(2026, D(2026, 4, 1), D(2027, 3, 31))
    assert fiscal.share(Decimal(18), D(2026, 6, 10)) == Decimal(15)  # June..March: 10 months
    assert fiscal.share(Decimal(18), D(2027, 3, 1)) == Decimal("1.5")  # March only
    assert fiscal.share(Decimal(18)) == Decimal(18)


def test_a_transition_year_allocates_for_its_length():
    transition = year(2027, D(2027, 1, 1), D(2028, 3, 31))
    assert transition.share(Decimal(18)) == Decimal("22.5")  # 18 * 15/12
    assert year(2027, D(2027, 4, 1), D(2027, 12, 31)).share(Decimal(18)) == Decimal("13.5")  # 18 * 9/12
