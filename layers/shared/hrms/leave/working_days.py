"""Pure date arithmetic of leave: working days between two dates, half days (leave years: `years`).

No database and no clock here: the tenant's weekend days (ISO weekday numbers, 1 = Monday ...
7 = Sunday) and its holidays are passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import Literal

HalfDay = Literal["first", "second"]
HALF = Decimal("0.5")


def working_days(
    start: dt.date,
    end: dt.date,
    *,
    weekend: Collection[int] = (6, 7),
    holidays: Collection[dt.date] = (),
    half_day: HalfDay | None = None,
) -> Decimal:
    """Days of leave a request of `start`..`end` (both included) takes.

    Weekend days and holidays are not counted. A half day (`first` or `second` half) is only
    possible on a single day and counts 0.5 if that day is a working day, 0 otherwise.
    """
    if end < start:
        raise ValueError("end must not be before start")
    if half_day is not None and start != end:
        raise ValueError("a half day covers a single date")
    weekend_days = set(weekend)
    if not weekend_days <= set(range(1, 8)):
        raise ValueError("weekend days are ISO weekday numbers 1..7")
    total = (end - start).days + 1
    weeks, rest = divmod(total, 7)
    count = weeks * (7 - len(weekend_days))
    first = start.isoweekday()
    count += sum(1 for i in range(rest) if (first - 1 + i) % 7 + 1 not in weekend_days)
    count -= sum(1 for day in set(holidays) if start <= day <= end and day.isoweekday() not in weekend_days)
    days = Decimal(count)
    return days * HALF if half_day is not None else days


def overlaps(
    a: tuple[dt.date, dt.date, HalfDay | None],
    b: tuple[dt.date, dt.date, HalfDay | None],
) -> bool:
    """True if two leaves share time: the same dates, unless both are opposite halves of one day."""
    (a_start, a_end, a_half), (b_start, b_end, b_half) = a, b
    if a_start > b_end or b_start > a_end:
        return False
    return not (a_half is not None and b_half is not None and a_half != b_half)
