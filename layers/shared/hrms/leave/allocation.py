"""A new employee's leave balances, allocated when the hire is declared (`Change("joining")`).

Subscriber of `hrms.db.changes`: a hire (POST /employees, an import, the demo seed) declares
`Change("joining", employee_ids=...)` in its transaction, once for any number of people, and this
allocates them set-based in the same transaction. The rules (`hrms.leave.years` for the arithmetic):
- the year allocated is the current leave year, or the one containing the joining date when that is
  later (a future joiner); never an earlier year (nothing retroactive);
- pro rata (months from the joining month, to the nearest half day) only in the year they join; a
  full share of the year for anyone who joined before it;
- an existing row of that year is left as it is.
A corrected joining date (`Change("joining", payload={"previous": <date>})`) re-prorates that year's
rows, or moves them when the allocated year changes, unless days are already booked or adjusted
there (422 naming them).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from hrms.db import audit_log
from hrms.db.changes import Change
from hrms.db.postgres import TenantTx
from hrms.errors import Invalid
from hrms.leave import balances, repo
from hrms.leave.years import LeaveYear, LeaveYears


def on_change(tx: TenantTx, change: Change) -> None:
    ids = [employee_id for employee_id in change.employee_ids if employee_id is not None]
    previous = change.payload.get("previous")
    if isinstance(previous, dt.date) and len(ids) == 1:
        _correct_joining(tx, ids[0], previous)
    elif ids:
        allocate_hires(tx, ids)


def allocate_hires(tx: TenantTx, employee_ids: list[UUID]) -> int:
    """Balance rows for new employees (see the module notes), one audit row each; returns the rows created."""
    years, today = balances.years_and_today(tx)
    quotas = repo.active_quotas(tx)
    current = years.containing(today)
    planned: list[repo.Allocation] = []
    audits = []
    for employee_id, joined in repo.joining_dates(tx, employee_ids):
        year = _allocated_year(years, current, joined)
        mine = [repo.Allocation(employee_id, q.id, year.year, year.share(q.annual_quota, joined)) for q in quotas]
        planned += mine
        allocated = {q.code: str(a.days) for q, a in zip(quotas, mine, strict=True)}
        audits.append((employee_id, None, {"year": year.year, "allocated": allocated}))
    created = repo.insert_allocations(tx, planned)
    audit_log.record_many(tx, "leave_balance.initialised", "employee", audits)
    return created


def _correct_joining(tx: TenantTx, employee_id: UUID, old: dt.date) -> None:
    years, today = balances.years_and_today(tx)
    current = years.containing(today)
    new = repo.joining_dates(tx, [employee_id])[0][1]
    old_year, new_year = _allocated_year(years, current, old), _allocated_year(years, current, new)
    problems = []
    for balance in repo.balances_of(tx, employee_id, old_year.year):
        if balance.adjusted and old_year != new_year:
            problems.append(f"{balance.code} leave of {old_year.year} has adjustments")
        share = new_year.share(balance.annual_quota, new)
        if balance.booked and (
            old_year != new_year or share + balance.carried_forward + balance.adjusted < balance.booked
        ):
            problems.append(f"{balance.booked} day(s) of {balance.code} leave are booked in {old_year.year}")
    if problems:
        raise Invalid(
            "The joining date cannot move.",
            errors=[{"field": "body.dateOfJoining", "type": "joining_date_in_use", "message": p} for p in problems],
        )
    if old_year != new_year:
        repo.drop_balances(tx, employee_id, old_year.year)
    quotas = repo.active_quotas(tx)
    planned = [repo.Allocation(employee_id, q.id, new_year.year, new_year.share(q.annual_quota, new)) for q in quotas]
    repo.insert_allocations(tx, planned, replace=True)
    audit_log.record(
        tx,
        "leave_balance.reprorated",
        "employee",
        employee_id,
        {"year": old_year.year},
        {"year": new_year.year, "allocated": {str(a.leave_type_id): str(a.days) for a in planned}},
    )


def _allocated_year(years: LeaveYears, current: LeaveYear, joined: dt.date) -> LeaveYear:
    joining_year = years.containing(joined)
    return joining_year if joining_year.year > current.year else current
