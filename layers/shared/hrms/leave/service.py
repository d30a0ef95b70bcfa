"""Leave rules: types, requests, reads, cancellation, and the leave side of approvals.

One `tenant_tx` per operation. `scope` ("all", "team", "self") is how far the caller's permission
reaches; leaves of employees outside it are "not found".

Rules worth knowing:
- Days are working days (tenant weekend days and holidays excluded); a half day is 0.5 and only
  on a single-day request of a type that allows it. A request must stay within one leave year
  (the tenant's `leaveYearStartMonth`, January by default): one spanning two is a 422 that says
  where to split it, because each year has its own balance.
- No overlap with the employee's pending or approved leaves (409); opposite halves of one day do
  not overlap. Requests of one employee are serialised by a lock on their employee row.
- Paid types need enough available balance (422 with `requested` and `available`); unpaid types
  are not limited, but their days are still tracked in a balance row. The days are reserved as
  `pending` under a row lock on the balance row; the approval moves them to `used` once.
- Cancelling (the employee for their own leave, or a caller whose scope is "all", i.e. HR/admin):
  a pending leave releases its reserved days and its open approval task; an approved leave gives
  its used days back. Only HR/admin may cancel an approved leave that has already started, and never
  their own (403 `own-balance`: that gives days already taken back to their own balance).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from hrms.auth import duties
from hrms.auth.scope import caller_employee_id, visible
from hrms.db import audit_log
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.employees import repo as employees
from hrms.employees.repo import EmployeeRow
from hrms.errors import Conflict, Invalid, NotFound
from hrms.leave import balances, repo
from hrms.leave.models import Leave, LeaveRequest, LeaveType, LeaveTypePatch, NewLeaveType
from hrms.leave.repo import LeaveRow, LeaveTypeRow
from hrms.leave.working_days import overlaps, working_days
from hrms.leave.years import LeaveYears
from hrms.pagination import Page, decode_keyset, page_of
from hrms.tenancy import Actor, Tenant

if TYPE_CHECKING:  # the approval models load with the engine, where a decision is made
    from hrms.approvals.models import Decision, DecisionIn

# The approval engine (and the outbox behind it) is imported where used: by requests, cancellations and
# decisions (their handler modules import it at init), not by the reads, leave types and dashboards.

ENTITY = "leave"

# ---------------------------------------------------------------- leave types


def list_leave_types(tenant: Tenant, actor: Actor, limit: int, cursor: str | None) -> Page[LeaveType]:
    after = decode_keyset(cursor, str)
    with tenant_tx(tenant, actor) as tx:
        rows = repo.leave_types(tx, after[0] if after else None, limit + 1)
    return page_of(rows, limit, lambda last: [last.code.lower()], _leave_type)


def create_leave_type(tenant: Tenant, actor: Actor, new: NewLeaveType) -> LeaveType:
    """The type, and its balance rows for the current leave year (the full annual quota) for everyone employed."""
    with tenant_tx(tenant, actor) as tx:
        row = repo.insert_leave_type(tx, new.model_dump())
        year = balances.current_year(tx)
        allocated = repo.allocate_new_type(tx, row, year)
        if allocated:
            audit_log.record(
                tx, "leave_balance.allocated", "leave_type", row.id, None, {"year": year.year, "employees": allocated}
            )
            declare(tx, Change("leave_type"))
    return _leave_type(row)


def update_leave_type(tenant: Tenant, actor: Actor, leave_type_id: UUID, patch: LeaveTypePatch) -> LeaveType:
    changes = patch.model_dump(exclude_unset=True)
    with tenant_tx(tenant, actor) as tx:
        row = repo.update_leave_type(tx, leave_type_id, changes)
        if "code" in changes:
            declare(tx, Change("leave_type"))  # the employee dashboards show the code
    return _leave_type(row)


# ---------------------------------------------------------------- requests


def request_leave(tenant: Tenant, actor: Actor, scope: str, new: LeaveRequest) -> Leave:
    """Validate, reserve the days as pending and open the first approval task, in one transaction."""
    from hrms.approvals import engine

    with tenant_tx(tenant, actor) as tx:
        employee = _requester(tx, actor, scope, new.employee_id)
        leave_type = repo.leave_type(tx, new.leave_type_id)
        if leave_type is None or not leave_type.is_active:
            raise _invalid("leaveTypeId", "not_found", "no such active leave type")
        cal = repo.calendar(tx)
        year = _check_dates(new, employee, leave_type, balances.years_of(tx, cal))
        days = working_days(
            new.start_date,
            new.end_date,
            weekend=cal.weekend,
            holidays=repo.holidays(tx, new.start_date, new.end_date),
            half_day=new.half_day,
        )
        if days == 0:
            raise _invalid("endDate", "no_working_days", "the dates hold no working day (weekends and holidays)")

        repo.lock_employee(tx, employee.id)
        _refuse_overlap(tx, employee.id, new)
        _reserve(tx, employee.id, leave_type, year, days)

        leave_id = uuid4()
        task = engine.start(tx, ENTITY, leave_id, employee.id)
        row = repo.insert_leave(
            tx,
            {
                "id": leave_id,
                "employee_id": employee.id,
                "leave_type_id": leave_type.id,
                "start_date": new.start_date,
                "end_date": new.end_date,
                "half_day": new.half_day,
                "days": days,
                "balance_year": year,
                "reason": new.reason,
                "approval_id": task.id,
                "created_by": actor.user_uuid,
            },
        )
        repo.change_balance(tx, "leave_balance.reserved", row, year, pending=days)
    return to_leave(row)


def get_leave(tenant: Tenant, actor: Actor, scope: str, leave_id: UUID) -> Leave:
    with tenant_tx(tenant, actor) as tx:
        return to_leave(_visible_leave(tx, scope, actor, leave_id))


def list_leaves(
    tenant: Tenant, actor: Actor, scope: str, filters: repo.Filters, limit: int, cursor: str | None
) -> Page[Leave]:
    """Keyset pages, newest start date first; `from`/`to` select leaves overlapping that range."""
    after = decode_keyset(cursor, dt.date.fromisoformat, UUID)
    with tenant_tx(tenant, actor) as tx:
        rows = repo.leaves_page(tx, visible(tx, scope, actor), filters, after, limit + 1)
    return page_of(rows, limit, lambda last: [last.start_date.isoformat(), str(last.id)], to_leave)


def cancel_leave(tenant: Tenant, actor: Actor, scope: str, leave_id: UUID) -> Leave:
    """Withdraw a pending leave or give back an approved one (see the module notes for who may)."""
    from hrms.approvals import engine

    with tenant_tx(tenant, actor) as tx:
        _visible_leave(tx, scope, actor, leave_id)
        engine.cancel_open(tx, ENTITY, leave_id)  # tasks before the leave: the order decisions lock in
        leave = _locked(tx, leave_id)
        if leave.status == "pending":
            engine.cancel_open(tx, ENTITY, leave_id)  # a next step opened while we waited
            repo.change_balance(tx, "leave_balance.released", leave, leave.balance_year, pending=-leave.days)
        elif leave.status == "approved":
            if leave.start_date <= repo.calendar(tx).today():
                if scope != "all":
                    raise Conflict("This leave has already started; ask HR to cancel it.")
                duties.not_own_balance(tx, leave.employee_id)  # days taken come back only through someone else
            repo.change_balance(tx, "leave_balance.restored", leave, leave.balance_year, used=-leave.days)
        else:
            raise Conflict(f"This leave is already {leave.status}.")
        repo.update_leave(tx, leave_id, {"status": "cancelled"})
        declare(tx, Change("leave", (leave.employee_id,)))
        return to_leave(_locked(tx, leave_id))


def decide_leave(tenant: Tenant, actor: Actor, scope: str, leave_id: UUID, decision: DecisionIn) -> Decision:
    """Decide the leave's pending approval task (the shortcut of POST /approvals/{id}/decision)."""
    from hrms.approvals import engine

    with tenant_tx(tenant, actor) as tx:
        leave = _visible_leave(tx, scope, actor, leave_id)
        task = engine.open_task(tx, ENTITY, leave_id)
        if task is None:
            raise Conflict(f"This leave has no pending approval (it is {leave.status}).")
        return engine.decide(tx, task.id, decision)


# ---------------------------------------------------------------- the approval engine's side


def on_step(tx: TenantTx, leave_id: UUID, approval_id: UUID) -> None:
    """The leave now waits on task `approval_id` (a later step)."""
    repo.update_leave(tx, leave_id, {"approval_id": approval_id})


def finalise(tx: TenantTx, leave_id: UUID, outcome: str) -> str:
    """Approved: the reserved days become used. Rejected: they are released. Exactly once (locked rows)."""
    leave = _locked(tx, leave_id)
    if leave.status != "pending":
        raise Conflict(f"This leave is already {leave.status}.")
    if outcome == "approved":
        repo.change_balance(tx, "leave_balance.used", leave, leave.balance_year, pending=-leave.days, used=leave.days)
    else:
        repo.change_balance(tx, "leave_balance.released", leave, leave.balance_year, pending=-leave.days)
    repo.update_leave(tx, leave_id, {"status": outcome, "decided_at": dt.datetime.now(dt.UTC)})
    declare(tx, Change("leave", (leave.employee_id,)))
    return outcome


# ---------------------------------------------------------------- rules


def _requester(tx: TenantTx, actor: Actor, scope: str, employee_id: UUID | None) -> EmployeeRow:
    if employee_id is None:
        employee_id = caller_employee_id(tx, actor)
        if employee_id is None:
            raise _invalid("employeeId", "missing", "your user has no employee record: name the employee")
    employee = employees.get(tx, employee_id, visible(tx, scope, actor))
    if employee is None:
        raise NotFound("No such employee.")
    if employee.status == "terminated":
        raise _invalid("employeeId", "terminated", "the employee has left the organisation")
    return employee


def _check_dates(new: LeaveRequest, employee: EmployeeRow, leave_type: LeaveTypeRow, years: LeaveYears) -> int:
    """The leave year of the request, after checking its dates against the rules."""
    if new.end_date < new.start_date:
        raise _invalid("endDate", "before_start", "must not be before startDate")
    leave_year = years.containing(new.start_date)
    year, last = leave_year.year, leave_year.last
    if new.end_date > last:
        raise _invalid(
            "endDate",
            "spans_leave_years",
            f"a request stays within one leave year: end this one on {last.isoformat()} and request the rest"
            " separately",
        )
    if new.half_day is not None:
        if new.start_date != new.end_date:
            raise _invalid("halfDay", "multi_day", "a half day is requested for a single date")
        if not leave_type.allow_half_day:
            raise _invalid("halfDay", "not_allowed", "this leave type does not allow half days")
    if new.start_date < employee.date_of_joining:
        raise _invalid("startDate", "before_joining", "must not be before the employee's date of joining")
    leaving = employee.date_of_leaving
    if leaving is not None and new.end_date > leaving:
        raise _invalid("endDate", "after_leaving", "must not be after the employee's date of leaving")
    return year


def _refuse_overlap(tx: TenantTx, employee_id: UUID, new: LeaveRequest) -> None:
    wanted = (new.start_date, new.end_date, new.half_day)
    clashes = [
        row
        for row in repo.active_leaves_between(tx, employee_id, new.start_date, new.end_date)
        if overlaps(wanted, (row.start_date, row.end_date, row.half_day))
    ]
    if clashes:
        raise Conflict(
            "The employee already has pending or approved leave on some of these dates.",
            overlapping=[str(row.id) for row in clashes],
        )


def _reserve(tx: TenantTx, employee_id: UUID, leave_type: LeaveTypeRow, year: int, days: Decimal) -> None:
    """Lock the balance row and check it holds `days` (paid types); the caller then adds them as pending."""
    if not leave_type.paid:
        repo.ensure_balance(tx, employee_id, leave_type.id, year)
        repo.lock_balance(tx, employee_id, leave_type.id, year)
        return
    balance = repo.lock_balance(tx, employee_id, leave_type.id, year)
    available = balance.available if balance else Decimal(0)
    if days > available:
        raise Invalid(
            f"Insufficient {leave_type.code} balance for {year}: {days} day(s) requested, {available} available.",
            errors=[{"field": "body.leaveTypeId", "type": "insufficient_balance", "message": "not enough days left"}],
            requested=float(days),
            available=float(available),
            leaveTypeCode=leave_type.code,
            year=year,
        )


def _visible_leave(tx: TenantTx, scope: str, actor: Actor, leave_id: UUID) -> LeaveRow:
    row = repo.find_leave(tx, leave_id, visible(tx, scope, actor))
    if row is None:
        raise NotFound("No such leave.")
    return row


def _locked(tx: TenantTx, leave_id: UUID) -> LeaveRow:
    row = repo.lock_leave(tx, leave_id)
    if row is None:
        raise NotFound("No such leave.")
    return row


def _invalid(field: str, kind: str, message: str) -> Invalid:
    return Invalid(
        "The request breaks a rule of leave requests.",
        errors=[{"field": f"body.{field}", "type": kind, "message": message}],
    )


def _leave_type(row: LeaveTypeRow) -> LeaveType:
    return LeaveType(
        leave_type_id=row.id,
        code=row.code,
        name=row.name,
        annual_quota=float(row.annual_quota),
        carry_forward_max=float(row.carry_forward_max),
        allow_half_day=row.allow_half_day,
        paid=row.paid,
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def to_leave(row: LeaveRow) -> Leave:
    """The wire model of a leave row (also the employee dashboard's pending leaves)."""
    return Leave(
        leave_id=row.id,
        employee_id=row.employee_id,
        leave_type_id=row.leave_type_id,
        leave_type_code=row.leave_type_code,
        start_date=row.start_date,
        end_date=row.end_date,
        half_day=row.half_day,
        days=float(row.days),
        status=row.status,
        reason=row.reason,
        approval_id=row.approval_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        decided_at=row.decided_at,
    )
