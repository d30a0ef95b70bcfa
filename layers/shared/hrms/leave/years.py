"""Leave years as data: which dates a tenant's leave year `2026` covers, and how long it is.

A leave year is named after the calendar year of its first day (an April-start tenant's year 2026 is
2026-04-01..2027-03-31). Years a tenant has opened (allocated by the rollover) are stored with their
bounds (`leave_years`) and never move again; years not opened yet follow the tenant's current
`leaveYearStartMonth`. So changing the start month after go-live takes effect at the next turn of
the year, and never rewrites a year that has balances:

- the year after the last opened one starts the day after it ends, and runs to the day before the
  first start-month boundary in a later calendar year, so it lasts 12 months when the month did not
  change and 2 to 23 months once, when it did (January -> April after an opened January year:
  2027-01-01..2028-03-31, 15 months; April -> January after an opened April year:
  2027-04-01..2027-12-31, 9 months). Names stay unique and increasing.
- years before the first opened one (and every year while none is opened) are whole 12-month years
  of the start month.

Allocations follow the length: a type's annual quota is per 12 months (`quota * months / 12`), so a
15-month transition year allocates 1.25 quotas; a hire gets the months from their joining month to
the end of the year. No database and no clock here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_MAX_STEPS = 1200  # years walked from the opened ones before a date is called out of range


@dataclass(frozen=True)
class LeaveYear:
    year: int
    first: dt.date
    last: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last

    @property
    def months(self) -> int:
        return _months_between(self.first, self.last)

    def months_from(self, day: dt.date) -> int:
        """Months of this year from `day`'s month to its last month, both included (a hire's share)."""
        return _months_between(max(day, self.first), self.last)

    def share(self, annual_quota: Decimal, joined: dt.date | None = None) -> Decimal:
        """`annual_quota * months / 12` for the year, or from the joining month; to the nearest half day
        (halves round up)."""
        months = self.months if joined is None or joined <= self.first else self.months_from(joined)
        exact = Decimal(annual_quota) * months / 12
        return (exact * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


@dataclass(frozen=True)
class LeaveYears:
    """A tenant's leave years: the opened ones (by name, contiguous) and the start month for the rest."""

    opened: tuple[LeaveYear, ...]
    start_month: int

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError("the leave year's start month is 1..12")

    @classmethod
    def of(cls, opened: Sequence[LeaveYear], start_month: int) -> LeaveYears:
        return cls(tuple(sorted(opened, key=lambda y: y.year)), start_month)

    def containing(self, day: dt.date) -> LeaveYear:
        """The leave year `day` falls in."""
        if not self.opened:
            return _whole_year(day.year if day.month >= self.start_month else day.year - 1, self.start_month)
        if day < self.opened[0].first:
            first = self.opened[0]
            month = first.first.month
            return _whole_year(day.year if day.month >= month else day.year - 1, month)
        for year in self.opened:
            if day in year:
                return year
        year = self.opened[-1]
        for _ in range(_MAX_STEPS):
            year = self._after(year)
            if day in year:
                return year
        raise ValueError(f"{day} is too far from the opened leave years")

    def named(self, name: int) -> LeaveYear:
        """Leave year `name` (the calendar year of its first day)."""
        for year in self.opened:
            if year.year == name:
                return year
        if not self.opened or name < self.opened[0].year:
            month = self.opened[0].first.month if self.opened else self.start_month
            return _whole_year(name, month)
        year = self.opened[-1]
        while year.year < name:
            year = self._after(year)
        if year.year != name:
            raise ValueError(f"no leave year {name}")
        return year

    def following(self, year: LeaveYear) -> LeaveYear:
        """The year after `year`."""
        for opened in self.opened:
            if opened.year > year.year:
                return opened
        return self._after(year)

    def _after(self, year: LeaveYear) -> LeaveYear:
        first = year.last + dt.timedelta(days=1)
        boundary = dt.date(first.year + 1, self.start_month, 1)
        return LeaveYear(first.year, first, boundary - dt.timedelta(days=1))


def _whole_year(name: int, start_month: int) -> LeaveYear:
    first = dt.date(name, start_month, 1)
    return LeaveYear(name, first, dt.date(name + 1, start_month, 1) - dt.timedelta(days=1))


def _months_between(first: dt.date, last: dt.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1
