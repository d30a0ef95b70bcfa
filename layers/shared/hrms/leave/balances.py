"""Leave balances: read per leave year with their adjustments, corrected one at a time (API), or set
as opening balances in bulk (imports).

An adjustment adds half-day steps to a balance's entitlement (allocated + carried forward +
adjusted) with a reason; it may take days off, but never below what is used or pending, and nobody
adjusts their own balance (`own-balance`). An opening balance sets the entitlement of a year to an
absolute number of days at go-live, recorded as one adjustment of the difference. Both write the
adjustment row, the balance's `adjusted` sum and an audit row in the caller's transaction; a year
the employee was not employed in, or one beyond next year, is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from hrms.auth import duties
from hrms.auth.scope import caller_employee_id, visible
from hrms.db import audit_log
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.employees import repo as employees
from hrms.employees.repo import EmployeeRow
from hrms.errors import Invalid, NotFound
from hrms.leave import repo
from hrms.leave.models import BalanceAdjustment, LeaveBalance, NewAdjustment
from hrms.leave.years import LeaveYear, LeaveYears
from hrms.tenancy import Actor, Tenant

Key = tuple[UUID, UUID, int]


@dataclass(frozen=True)
class Opening:
    """An opening balance: `days` of entitlement for one employee, leave type and leave year."""

    employee_id: UUID
    leave_type_id: UUID
    year: int
    days: Decimal


def leave_balances(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID, year: int | None) -> list[LeaveBalance]:
    """The employee's balances of `year` (default: the current leave year), each with its adjustments."""
    with tenant_tx(tenant, actor) as tx:
        if employees.get(tx, employee_id, visible(tx, scope, actor)) is None:
            raise NotFound("No such employee.")
        name = year if year is not None else current_year(tx).year
        return _balances(tx, employee_id, name)


def adjust(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID, new: NewAdjustment) -> LeaveBalance:
    """Add `new.days` to one balance (201: the balance after)."""
    with tenant_tx(tenant, actor) as tx:
        employee = employees.get(tx, employee_id, visible(tx, scope, actor))
        if employee is None:
            raise NotFound("No such employee.")
        duties.not_own_balance(tx, employee_id)
        if new.days == 0:
            raise _invalid("days", "zero", "an adjustment adds or takes off at least half a day")
        leave_type = repo.leave_type(tx, new.leave_type_id)
        if leave_type is None:
            raise _invalid("leaveTypeId", "not_found", "no such leave type")
        years, today = years_and_today(tx)
        year = years.named(new.year) if new.year is not None else years.containing(today)
        problem = _year_problem(employee, year, years.containing(today))
        if problem:
            raise _invalid("year", "outside_employment", problem)
        key = (employee_id, new.leave_type_id, year.year)
        repo.ensure_balance(tx, *key)
        before = repo.lock_balances(tx, [key])[key]
        if before.available + new.days < 0:
            raise _invalid(
                "days",
                "below_booked",
                f"{before.used + before.pending} day(s) are used or pending;"
                f" at most {before.available} can be taken off",
            )
        repo.insert_adjustments(tx, [(repo.Allocation(*key, new.days), "correction", new.reason)])
        audit_log.record(
            tx,
            "leave_balance.adjusted",
            "employee",
            employee_id,
            {"leaveTypeId": new.leave_type_id, "year": year.year, "adjusted": before.adjusted},
            {
                "leaveTypeId": new.leave_type_id,
                "year": year.year,
                "adjusted": before.adjusted + new.days,
                "reason": new.reason,
            },
        )
        declare(tx, Change("leave_balance", employee_ids=(employee_id,)))
        return next(b for b in _balances(tx, employee_id, year.year) if b.leave_type_id == new.leave_type_id)


def opening_problems(tx: TenantTx, openings: Sequence[Opening]) -> dict[int, str]:
    """Why each opening (by index) cannot be set; nothing is written. The importer's own balance included."""
    years, today = years_and_today(tx)
    current = years.containing(today)
    people = {row.id: row for row in employees.many(tx, list({o.employee_id for o in openings}))}
    existing = repo.balances_by_key(tx, [(o.employee_id, o.leave_type_id, o.year) for o in openings])
    mine = caller_employee_id(tx, tx.actor) if tx.actor is not None else None
    problems: dict[int, str] = {}
    for index, opening in enumerate(openings):
        employee = people.get(opening.employee_id)
        if employee is None:
            problems[index] = "no such employee"
        elif mine is not None and employee.id == mine:
            problems[index] = "nobody sets their own leave balance (own-balance)"
        elif opening.days < 0 or opening.days * 2 != int(opening.days * 2):
            problems[index] = "days must be 0 or more, in half-day steps"
        elif problem := _year_problem(employee, _named(years, opening.year), current):
            problems[index] = problem
        elif (row := existing.get((opening.employee_id, opening.leave_type_id, opening.year))) and (
            opening.days < row.used + row.pending
        ):
            problems[index] = f"{row.used + row.pending} day(s) are already used or pending in {opening.year}"
    return problems


def set_opening_balances(tx: TenantTx, openings: Sequence[Opening], reason: str) -> int:
    """Set each opening's entitlement (after `opening_problems` found none); returns the balances changed."""
    keys = [(o.employee_id, o.leave_type_id, o.year) for o in openings]
    repo.ensure_balances(tx, keys)
    locked = repo.lock_balances(tx, keys)
    planned: list[tuple[repo.Allocation, str, str]] = []
    audits = []
    for opening, key in zip(openings, keys, strict=True):
        row = locked[key]
        entitled = row.allocated + row.carried_forward + row.adjusted
        if opening.days < row.used + row.pending:
            raise Invalid(f"{row.used + row.pending} day(s) are already used or pending in {opening.year}")
        if opening.days != entitled:
            planned.append((repo.Allocation(*key, opening.days - entitled), "opening", reason))
            audits.append(
                (
                    opening.employee_id,
                    {"leaveTypeId": opening.leave_type_id, "year": opening.year, "entitlement": entitled},
                    {"leaveTypeId": opening.leave_type_id, "year": opening.year, "entitlement": opening.days},
                )
            )
    changed = repo.insert_adjustments(tx, planned)
    audit_log.record_many(tx, "leave_balance.opening_set", "employee", audits)
    if planned:
        declare(tx, Change("leave_balance", employee_ids=tuple({a.employee_id for a, _, _ in planned})))
    return changed


# ---------------------------------------------------------------- helpers


def _balances(tx: TenantTx, employee_id: UUID, year: int) -> list[LeaveBalance]:
    adjustments: dict[UUID, list[BalanceAdjustment]] = {}
    for row in repo.adjustments_of_year(tx, employee_id, year):
        adjustments.setdefault(row.leave_type_id, []).append(
            BalanceAdjustment(
                adjustment_id=row.id,
                days=float(row.days),
                kind=row.kind,
                reason=row.reason,
                created_by=row.created_by,
                created_at=row.created_at,
            )
        )
    return [
        to_balance(row, adjustments.get(row.leave_type_id, [])) for row in repo.balances_of_year(tx, employee_id, year)
    ]


def to_balance(row: repo.TypedBalance, adjustments: list[BalanceAdjustment] | None = None) -> LeaveBalance:
    """The wire model of a balance row (also the employee dashboard's balances)."""
    return LeaveBalance(
        leave_type_id=row.leave_type_id,
        code=row.code,
        year=row.year,
        allocated=float(row.allocated),
        carried_forward=float(row.carried_forward),
        adjusted=float(row.adjusted),
        used=float(row.used),
        pending=float(row.pending),
        available=float(row.available),
        adjustments=adjustments or [],
    )


def years_of(tx: TenantTx, cal: repo.OrgCalendar) -> LeaveYears:
    """The tenant's leave years (opened ones as stored, later ones by its current start month)."""
    return LeaveYears.of(repo.opened_years(tx), cal.year_start_month)


def current_year(tx: TenantTx) -> LeaveYear:
    """The leave year containing today in the tenant's zone."""
    years, today = years_and_today(tx)
    return years.containing(today)


def years_and_today(tx: TenantTx) -> tuple[LeaveYears, dt.date]:
    """The tenant's leave years and today in its zone (one read of the calendar)."""
    cal = repo.calendar(tx)
    return years_of(tx, cal), cal.today()


def _named(years: LeaveYears, name: int) -> LeaveYear | None:
    try:
        return years.named(name)
    except ValueError:
        return None


def _year_problem(employee: EmployeeRow, year: LeaveYear | None, current: LeaveYear) -> str | None:
    if year is None or year.year > current.year + 1:
        return "only leave years up to the next one can be adjusted"
    if employee.date_of_joining > year.last or (employee.date_of_leaving and employee.date_of_leaving < year.first):
        return f"the employee was not employed in leave year {year.year} ({year.first} to {year.last})"
    return None


def _invalid(field: str, kind: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": f"body.{field}", "type": kind, "message": message}])
