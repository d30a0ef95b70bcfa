"""Salary structures and the salary history of employees.

A salary copies its structure's components when it is assigned, so editing a structure later
changes nobody's pay retroactively; a new revision (a new salary row) picks the edit up.
A revision may not take effect in a month whose payroll is already approved or processed:
that pay is settled (arrears are out of scope), so the revision would silently never be paid.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from hrms.auth import duties
from hrms.auth.scope import visible
from hrms.db import rows
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.employees import repo as employees
from hrms.errors import Conflict, Invalid, NotFound
from hrms.pagination import Page, decode_keyset, page_of
from hrms.payroll import repo
from hrms.payroll.models import (
    ComponentOut,
    EmployeeSalary,
    NewEmployeeSalary,
    NewSalaryStructure,
    SalaryStructure,
    SalaryStructurePatch,
)
from hrms.payroll.repo import SalaryRow, StructureRow
from hrms.tenancy import Actor, Tenant


def list_structures(tenant: Tenant, actor: Actor, limit: int, cursor: str | None) -> Page[SalaryStructure]:
    """Keyset pages by name (case-insensitive)."""
    after = decode_keyset(cursor, str)
    with tenant_tx(tenant, actor) as tx:
        found = repo.structures_page(tx, after[0] if after else None, limit + 1)
    return page_of(found, limit, lambda last: [last.name.lower()], _structure)


def get_structure(tenant: Tenant, actor: Actor, structure_id: UUID) -> SalaryStructure:
    with tenant_tx(tenant, actor) as tx:
        found = repo.structure(tx, structure_id)
    if found is None:
        raise NotFound("No such salary structure.")
    return _structure(found)


def create_structure(tenant: Tenant, actor: Actor, new: NewSalaryStructure) -> SalaryStructure:
    with tenant_tx(tenant, actor) as tx:
        row = repo.insert_structure(tx, new.model_dump(mode="json"))
    return _structure(row)


def update_structure(tenant: Tenant, actor: Actor, structure_id: UUID, patch: SalaryStructurePatch) -> SalaryStructure:
    with tenant_tx(tenant, actor) as tx:
        row = repo.update_structure(tx, structure_id, patch.model_dump(mode="json", exclude_unset=True))
    return _structure(row)


def assign_salary(tenant: Tenant, actor: Actor, employee_id: UUID, new: NewEmployeeSalary) -> EmployeeSalary:
    """A new salary (or revision) from `effectiveFrom`, with the structure's current components."""
    with tenant_tx(tenant, actor) as tx:
        _employee_or_404(tx, employee_id)
        duties.not_own_salary(tx, employee_id)
        structure = repo.structure(tx, new.salary_structure_id)
        if structure is None or not structure.is_active:
            problem = {"field": "body.salaryStructureId", "type": "not_found", "message": "no such active structure"}
            raise Invalid("The salary structure does not exist or is inactive.", errors=[problem])
        _refuse_settled_month(tx, new.effective_from)
        row = repo.insert_salary(
            tx,
            {
                "employee_id": employee_id,
                "salary_structure_id": structure.id,
                "annual_ctc": new.annual_ctc,
                "components": structure.components,
                "effective_from": new.effective_from,
            },
        )
    return _salary(row)


def salary_history(
    tenant: Tenant, actor: Actor, scope: str, employee_id: UUID, limit: int, cursor: str | None
) -> Page[EmployeeSalary]:
    """Newest revision first; an employee outside the caller's scope is not found."""
    after = decode_keyset(cursor, dt.date.fromisoformat)
    with tenant_tx(tenant, actor) as tx:
        if employees.find(tx, employee_id, visible(tx, scope, actor)) is None:
            raise NotFound("No such employee.")
        found = repo.salaries_page(tx, employee_id, after[0] if after else None, limit + 1)
    return page_of(found, limit, lambda last: [last.effective_from.isoformat()], _salary)


def _employee_or_404(tx: TenantTx, employee_id: UUID) -> None:
    if not rows.exists(tx, "employees", employee_id):
        raise NotFound("No such employee.")


def _refuse_settled_month(tx: TenantTx, effective_from: dt.date) -> None:
    settled = repo.last_settled_month(tx, effective_from)
    if settled:
        raise Conflict(
            "Payroll is already approved or processed for a month this revision would change.",
            settledMonth=settled,
        )


def _structure(row: StructureRow) -> SalaryStructure:
    return SalaryStructure(
        salary_structure_id=row.id,
        name=row.name,
        components=[ComponentOut.model_validate(c) for c in row.components],
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _salary(row: SalaryRow) -> EmployeeSalary:
    return EmployeeSalary(
        employee_salary_id=row.id,
        employee_id=row.employee_id,
        salary_structure_id=row.salary_structure_id,
        annual_ctc=row.annual_ctc,
        components=[ComponentOut.model_validate(c) for c in row.components],
        effective_from=row.effective_from,
        created_at=row.created_at,
    )
