"""Leave balances of an employee: initialised pro rata on hire, re-prorated when the joining date is
corrected, read per year. The rules live here; their SQL is in `hrms.employees.repo`."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from hrms.db import audit_log
from hrms.db.postgres import TenantTx
from hrms.employees import repo


def months_remaining(joined: dt.date) -> int:
    """Months of the joining year from the joining month to December, both included."""
    return 13 - joined.month


def pro_rata(annual_quota: Decimal, joined: dt.date) -> Decimal:
    """`annual_quota * remaining months / 12`, rounded to the nearest half day (halves round up)."""
    exact = Decimal(annual_quota) * months_remaining(joined) / 12
    return (exact * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def initialise(tx: TenantTx, employee_id: UUID, joined: dt.date, *, reprorate: bool = False) -> dict[str, Decimal]:
    """A balance row per active leave type for the joining year (the guide's initializeLeaveBalance).

    Returns {leave type code: allocated days}. An existing row for the year is left as it is, or with
    `reprorate` (a corrected joining date) given the new allocation.
    """
    quotas = [(quota, pro_rata(quota.annual_quota, joined)) for quota in repo.leave_quotas(tx)]
    repo.allocate(tx, employee_id, joined.year, {quota.id: days for quota, days in quotas}, replace=reprorate)
    allocated = {quota.code: days for quota, days in quotas}
    audit_log.record(
        tx,
        "leave_balance.reprorated" if reprorate else "leave_balance.initialised",
        "employee",
        employee_id,
        None,
        {"year": joined.year, "allocated": {code: str(days) for code, days in allocated.items()}},
    )
    return allocated


def joining_corrections(tx: TenantTx, employee_id: UUID, old: dt.date, new: dt.date) -> list[dict[str, str]]:
    """Why the joining date may not move from `old` to `new` (field errors); empty if it may.

    Within one year the joining year's allocations are re-prorated, so none may fall below what is
    already used or pending. Across years the balance rows would move, so nothing may be booked in the
    old joining year. Either way no pending or approved leave may start before the new date, and no
    payroll (not rejected) may have been run for a month up to the later joining month.
    """
    problems: list[str] = []
    for balance in repo.booked_balances(tx, employee_id, old.year):
        if new.year != old.year or pro_rata(balance.annual_quota, new) < balance.booked:
            problems.append(f"{balance.booked} day(s) of {balance.code} leave are booked in {old.year}")
    early = repo.leaves_starting_before(tx, employee_id, new)
    if early:
        problems.append(f"{early} leave(s) start before {new.isoformat()}")
    paid = repo.last_paid_month(tx, employee_id, max(old, new))
    if paid:
        problems.append(f"payroll has been run for {paid}")
    return [{"field": "body.dateOfJoining", "type": "joining_date_in_use", "message": p} for p in problems]


def correct_joining(tx: TenantTx, employee_id: UUID, old: dt.date, new: dt.date) -> None:
    """Re-prorate (or, across years, move) the joining year's balances after `joining_corrections` allowed it."""
    if new.year != old.year:
        repo.drop_balances(tx, employee_id, old.year)
    initialise(tx, employee_id, new, reprorate=True)
