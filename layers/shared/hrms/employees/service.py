"""Employee records: hire, list, read, change, terminate.

Every operation is one tenant transaction. `scope` ("all", "team", "self") is how far the caller's
permission reaches; records outside it are "not found". PAN and Aadhaar are validated by the
models, encrypted here (`hrms.pii`) and stored with a blind index and a masked form; only the
masked form ever leaves this module. A hire and a corrected `dateOfJoining` are declared as a
`joining` change: the leave domain allocates or re-prorates the balances (`hrms.leave.allocation`);
a joining date that leave or payroll already depends on stays (422).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from hrms.auth import accounts, duties
from hrms.auth.scope import Visibility, visible
from hrms.cache import views
from hrms.db import rows, tenant_clock
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.employees import repo
from hrms.employees.identifiers import mask_aadhaar, mask_pan, stored_columns
from hrms.employees.models import Employee, EmployeePatch, NewEmployee
from hrms.employees.repo import EmployeeRow
from hrms.errors import Conflict, Invalid, NotFound
from hrms.models import text_problem
from hrms.pagination import Page, decode_keyset, page_of
from hrms.tenancy import Actor, Tenant

# Epoch namespace bumped whenever reporting lines change; its row lock serialises those changes
# within a tenant, so two concurrent manager changes cannot both pass the cycle check.
REPORTING_NAMESPACE = "reporting"

_IDENTIFIERS = {"pan": mask_pan, "aadhaar": mask_aadhaar}
_OWN_TERMS = {"manager_id": "manager", "date_of_joining": "joining date"}  # never changed on one's own record
_UNIQUE = {
    "body.email": "An employee with this email already exists.",
    "body.pan": "An employee with this PAN already exists.",
    "body.aadhaar": "An employee with this Aadhaar number already exists.",
}


def create_employee(tenant: Tenant, actor: Actor, scope: str, new: NewEmployee) -> Employee:
    """Hire: the record (with a generated employee code) and the joining year's leave balances."""
    with tenant_tx(tenant, actor) as tx:
        vis = visible(tx, scope, actor)
        _raise_if_any(
            _reference_errors(
                tx, vis, department_id=new.department_id, designation_id=new.designation_id, manager_id=new.manager_id
            )
        )
        values: dict[str, Any] = new.model_dump(exclude={"pan", "aadhaar"})
        values["employee_code"] = repo.next_employee_code(tx)
        values.update(stored_columns(tenant.tenant_id, "pan", new.pan))
        values.update(stored_columns(tenant.tenant_id, "aadhaar", new.aadhaar))
        with _unique_fields():
            row = repo.insert(tx, values)
        declare(tx, Change("joining", employee_ids=(row.id,)))
        declare(tx, Change("headcount"))
        declare(tx, Change("employee"))
    return _employee(row)


def list_employees(
    tenant: Tenant, actor: Actor, scope: str, filters: repo.Filters, limit: int, cursor: str | None
) -> Page[Employee]:
    """Keyset pages ordered by (lastName, firstName, id); the cursor is opaque to clients."""
    after = _position(cursor)
    if filters.q is not None:
        _storable(filters.q, "query.q")
    with tenant_tx(tenant, actor) as tx:
        found = repo.list_page(tx, visible(tx, scope, actor), filters, after, limit + 1)
    return page_of(found, limit, lambda last: [last.last_name, last.first_name, str(last.id)], _employee)


def get_employee(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID) -> Employee:
    with tenant_tx(tenant, actor) as tx:
        return _employee(_visible_or_404(tx, visible(tx, scope, actor), employee_id))


def update_employee(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID, patch: EmployeePatch) -> Employee:
    """Change any field; a move between departments or a status change refreshes the org views."""
    with tenant_tx(tenant, actor) as tx:
        row = _change(tx, visible(tx, scope, actor), employee_id, patch.model_dump(exclude_unset=True))
    return _employee(row)


def terminate_employee(
    tenant: Tenant, actor: Actor, scope: str, employee_id: UUID, date_of_leaving: dt.date | None
) -> Employee:
    """Status terminated, leaving date as given (default today, or the one already recorded). No hard delete."""
    changes: dict[str, Any] = {"status": "terminated"}
    if date_of_leaving is not None:
        changes["date_of_leaving"] = date_of_leaving
    with tenant_tx(tenant, actor) as tx:
        row = _change(tx, visible(tx, scope, actor), employee_id, changes)
    return _employee(row)


# ---------------------------------------------------------------- rules


def _change(tx: TenantTx, vis: Visibility, employee_id: UUID, requested: dict[str, Any]) -> EmployeeRow:
    _visible_or_404(tx, vis, employee_id)
    before = repo.lock(tx, employee_id)
    _not_own_terms(tx, before, requested)
    changes = {k: v for k, v in requested.items() if k not in _IDENTIFIERS}
    for field in _IDENTIFIERS:
        if field in requested:
            changes.update(stored_columns(tx.tenant.tenant_id, field, requested[field]))

    errors = _reference_errors(
        tx,
        vis,
        department_id=changes.get("department_id"),
        designation_id=changes.get("designation_id"),
        manager_id=changes.get("manager_id"),
    )
    manager_id = changes.get("manager_id")
    if manager_id is not None and manager_id != before.manager_id and not errors:
        views.invalidate(tx, REPORTING_NAMESPACE)  # takes the tenant's reporting-line lock first
        if manager_id == employee_id or repo.chain_reaches(tx, manager_id, employee_id):
            errors.append(_field_error("managerId", "cycle", "would make the employee their own (indirect) manager"))
    errors += _status_rules(tx, before, changes)
    joined: dt.date = changes.get("date_of_joining") or before.date_of_joining
    if joined != before.date_of_joining:
        errors += _joining_errors(tx, employee_id, max(before.date_of_joining, joined), joined)
    _raise_if_any(errors)

    with _unique_fields():
        after = repo.update(tx, employee_id, changes)
    if after.date_of_leaving != before.date_of_leaving and tx.actor is not None:
        accounts.check_employee_leaving(tx, tx.actor, employee_id, after.date_of_leaving)
    if joined != before.date_of_joining:  # the leave domain re-prorates (422 when days are booked)
        declare(tx, Change("joining", employee_ids=(employee_id,), payload={"previous": before.date_of_joining}))
    if after.department_id != before.department_id or after.status != before.status:
        declare(tx, Change("headcount"))
    if _dashboard_facts(after) != _dashboard_facts(before):
        declare(tx, Change("employee"))
    return after


def _not_own_terms(tx: TenantTx, before: EmployeeRow, requested: dict[str, Any]) -> None:
    """403 `own-record`: nobody picks their own manager (who decides their leave) or moves their own
    joining date (which prorates their leave and pay); another HR user or an admin does it."""
    changed = [
        name for field, name in _OWN_TERMS.items() if field in requested and requested[field] != getattr(before, field)
    ]
    duties.not_own_terms(tx, before.id, changed)


def _dashboard_facts(row: EmployeeRow) -> tuple[object, ...]:
    """What the executive dashboard counts of an employee: headcount by department, joiners and leavers."""
    return (row.department_id, row.status, row.date_of_joining, row.date_of_leaving)


def _joining_errors(tx: TenantTx, employee_id: UUID, later: dt.date, new: dt.date) -> list[dict[str, Any]]:
    """Why the joining date may not move to `new`: a pending or approved leave starting before it, or a
    payroll (not rejected) run for a month up to the later of the two joining months."""
    problems: list[str] = []
    early = repo.leaves_starting_before(tx, employee_id, new)
    if early:
        problems.append(f"{early} leave(s) start before {new.isoformat()}")
    paid = repo.last_paid_month(tx, employee_id, later)
    if paid:
        problems.append(f"payroll has been run for {paid}")
    return [_field_error("dateOfJoining", "joining_date_in_use", p) for p in problems]


def _status_rules(tx: TenantTx, before: EmployeeRow, changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Leaving dates follow the status: set on termination (default today), cleared on re-activation."""
    status = changes.get("status", before.status)
    if status == "terminated" and before.status != "terminated" and changes.get("date_of_leaving") is None:
        changes["date_of_leaving"] = tenant_clock.today(tx)
    elif status != "terminated" and before.status == "terminated" and "date_of_leaving" not in changes:
        changes["date_of_leaving"] = None
    leaving = changes.get("date_of_leaving", before.date_of_leaving)
    joining = changes.get("date_of_joining", before.date_of_joining)
    if status == "terminated" and leaving is None:
        return [_field_error("dateOfLeaving", "missing", "a terminated employee needs a leaving date")]
    if leaving is not None and leaving < joining:
        return [_field_error("dateOfLeaving", "before_joining", "must not be before the date of joining")]
    return []


def _reference_errors(
    tx: TenantTx,
    vis: Visibility,
    *,
    department_id: UUID | None,
    designation_id: UUID | None,
    manager_id: UUID | None,
) -> list[dict[str, Any]]:
    errors = []
    if department_id is not None and not rows.exists(tx, "departments", department_id):
        errors.append(_field_error("departmentId", "not_found", "no such department"))
    if designation_id is not None and not rows.exists(tx, "designations", designation_id):
        errors.append(_field_error("designationId", "not_found", "no such designation"))
    if manager_id is not None:
        manager = repo.get(tx, manager_id, vis)  # outside the caller's scope reads as unknown
        if manager is None:
            errors.append(_field_error("managerId", "not_found", "no such employee"))
        elif manager.status == "terminated":
            errors.append(_field_error("managerId", "terminated", "the manager has left the organisation"))
    return errors


@contextmanager
def _unique_fields() -> Iterator[None]:
    """A duplicate email/PAN/Aadhaar (caught by the unique indexes, so also under races) is a 409 on that field."""
    try:
        yield
    except Conflict as exc:
        field = exc.errors[0]["field"] if exc.errors else None
        if field not in _UNIQUE:
            raise
        raise Conflict(
            _UNIQUE[field],
            errors=[{"field": field, "type": "duplicate", "message": "already used by another employee"}],
        ) from exc


def _visible_or_404(tx: TenantTx, vis: Visibility, employee_id: UUID) -> EmployeeRow:
    row = repo.get(tx, employee_id, vis)
    if row is None:
        raise NotFound("No such employee.")
    return row


def _position(cursor: str | None) -> tuple[str, str, UUID] | None:
    position = decode_keyset(cursor, str, str, UUID)
    return None if position is None else (position[0], position[1], position[2])


def _storable(text: str, field: str) -> str:
    if text_problem(text) is not None:
        raise Invalid("The request does not match the expected schema.", errors=[_bad_text(field)])
    return text


def _bad_text(field: str) -> dict[str, Any]:
    return {"field": field, "type": "string_type", "message": "must be valid Unicode text without NUL characters"}


def _field_error(field: str, kind: str, message: str) -> dict[str, Any]:
    return {"field": f"body.{field}", "type": kind, "message": message}


def _raise_if_any(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise Invalid("The request breaks a rule of employee records.", errors=errors)


def _employee(row: EmployeeRow) -> Employee:
    return Employee(
        employee_id=row.id,
        employee_code=row.employee_code,
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        phone=row.phone,
        department_id=row.department_id,
        designation_id=row.designation_id,
        manager_id=row.manager_id,
        employment_type=row.employment_type,
        status=row.status,
        date_of_joining=row.date_of_joining,
        date_of_leaving=row.date_of_leaving,
        pan_masked=row.pan_masked,
        aadhaar_masked=row.aadhaar_masked,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
