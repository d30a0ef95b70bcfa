"""Payroll months: `YYYY-MM` on the wire, the month's first day in code.

A module of its own so that exports (which name a payroll month) import it without the payroll models.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import Field, StringConstraints

MONTH_PATTERN = r"^((?:19|2\d)\d{2})-(0[1-9]|1[0-2])$"  # 1900-01 .. 2999-12
_MONTH = re.compile(MONTH_PATTERN)
Month = Annotated[str, StringConstraints(pattern=MONTH_PATTERN), Field(examples=["2026-11"])]


def parse_month(value: str) -> dt.date:
    """`YYYY-MM` -> the first day of that month; ValueError otherwise."""
    match = _MONTH.match(value)
    if match is None:
        raise ValueError("must be a month as YYYY-MM")
    return dt.date(int(match[1]), int(match[2]), 1)
