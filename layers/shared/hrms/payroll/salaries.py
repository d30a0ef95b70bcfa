"""Salary structures and the salary history of employees.

A salary copies its structure's components when it is assigned, so editing a structure later
changes nobody's pay retroactively; a new revision (a new salary row) picks the edit up.
A revision may not take effect in a month whose payroll is already approved or processed:
that pay is settled (arrears are out of scope), so the revision would silently never be paid.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.auth import duties
from hrms.auth.scope import visible
from hrms.db import crud
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.employees import repo as employees
from hrms.errors import Conflict, Invalid, NotFound
from hrms.pagination import Page, decode_keyset, page_of
from hrms.payroll.models import (
    ComponentOut,
    EmployeeSalary,
    NewEmployeeSalary,
    NewSalaryStructure,
    SalaryStructure,
    SalaryStructurePatch,
)
from hrms.tenancy import Actor, Tenant

Row = dict[str, Any]
STRUCTURE = "salary_structure"
SALARY = "employee_salary"


def list_structures(tenant: Tenant, actor: Actor, limit: int, cursor: str | None) -> Page[SalaryStructure]:
    """Keyset pages by name (case-insensitive)."""
    after = decode_keyset(cursor, str)
    with tenant_tx(tenant, actor) as tx:
        rows = tx.execute(
            sql.SQL(
                "SELECT * FROM {} WHERE %(after)s::text IS NULL OR lower(name) > %(after)s"
                " ORDER BY lower(name) LIMIT %(limit)s"
            ).format(tx.t("salary_structures")),
            {"after": after[0] if after else None, "limit": limit + 1},
        ).fetchall()
    return page_of(rows, limit, lambda last: [last["name"].lower()], _structure)


def get_structure(tenant: Tenant, actor: Actor, structure_id: UUID) -> SalaryStructure:
    with tenant_tx(tenant, actor) as tx:
        return _structure(crud.get_or_404(tx, "salary_structures", structure_id, "salary structure"))


def create_structure(tenant: Tenant, actor: Actor, new: NewSalaryStructure) -> SalaryStructure:
    with tenant_tx(tenant, actor) as tx:
        row = crud.insert(tx, "salary_structures", STRUCTURE, new.model_dump(mode="json"))
    return _structure(row)


def update_structure(tenant: Tenant, actor: Actor, structure_id: UUID, patch: SalaryStructurePatch) -> SalaryStructure:
    with tenant_tx(tenant, actor) as tx:
        changes = patch.model_dump(mode="json", exclude_unset=True)
        row = crud.update(tx, "salary_structures", STRUCTURE, structure_id, changes)
    return _structure(row)


def assign_salary(tenant: Tenant, actor: Actor, employee_id: UUID, new: NewEmployeeSalary) -> EmployeeSalary:
    """A new salary (or revision) from `effectiveFrom`, with the structure's current components."""
    with tenant_tx(tenant, actor) as tx:
        _employee_or_404(tx, employee_id)
        duties.not_own_salary(tx, employee_id)
        structure = crud.get(tx, "salary_structures", new.salary_structure_id)
        if structure is None or not structure["is_active"]:
            problem = {"field": "body.salaryStructureId", "type": "not_found", "message": "no such active structure"}
            raise Invalid("The salary structure does not exist or is inactive.", errors=[problem])
        _refuse_settled_month(tx, new.effective_from)
        row = crud.insert(
            tx,
            "employee_salaries",
            SALARY,
            {
                "employee_id": employee_id,
                "salary_structure_id": structure["id"],
                "annual_ctc": new.annual_ctc,
                "components": structure["components"],
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
        rows = tx.execute(
            sql.SQL(
                "SELECT * FROM {} WHERE employee_id = %(employee)s"
                " AND (%(after)s::date IS NULL OR effective_from < %(after)s)"
                " ORDER BY effective_from DESC LIMIT %(limit)s"
            ).format(tx.t("employee_salaries")),
            {"employee": employee_id, "after": after[0] if after else None, "limit": limit + 1},
        ).fetchall()
    return page_of(rows, limit, lambda last: [last["effective_from"].isoformat()], _salary)


def _employee_or_404(tx: TenantTx, employee_id: UUID) -> None:
    if not employees.exists(tx, "employees", employee_id):
        raise NotFound("No such employee.")


def _refuse_settled_month(tx: TenantTx, effective_from: dt.date) -> None:
    settled = tx.execute(
        sql.SQL(
            "SELECT to_char(max(month), 'YYYY-MM') AS month FROM {}"
            " WHERE status IN ('approved', 'processed') AND month >= date_trunc('month', %s::date)"
        ).format(tx.t("payroll_runs")),
        (effective_from,),
    ).fetchone()
    if settled and settled["month"]:
        raise Conflict(
            "Payroll is already approved or processed for a month this revision would change.",
            settledMonth=settled["month"],
        )


def _structure(row: Row) -> SalaryStructure:
    return SalaryStructure(
        salary_structure_id=row["id"],
        name=row["name"],
        components=[ComponentOut.model_validate(c) for c in row["components"]],
        is_active=row["is_active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _salary(row: Row) -> EmployeeSalary:
    return EmployeeSalary(
        employee_salary_id=row["id"],
        employee_id=row["employee_id"],
        salary_structure_id=row["salary_structure_id"],
        annual_ctc=row["annual_ctc"],
        components=[ComponentOut.model_validate(c) for c in row["components"]],
        effective_from=row["effective_from"],
        created_at=row["created_at"],
    )
