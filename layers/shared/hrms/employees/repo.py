"""SQL of the employees domain; every table through `tx.t(...)`,
every value bound.

Rows come out typed: each row shape is a frozen dataclass below, filled by psycopg's `class_row`
(reads select exactly the dataclass's fields) or, for the audited writes of `hrms.db.crud` (which
return whole dict rows), by `_typed`. `EmployeeRow` holds no PAN/Aadhaar ciphertext or blind index:
those columns are written here and never read back out of this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.auth.scope import Visibility
from hrms.db import crud, rows
from hrms.db.postgres import TenantTx

ENTITY = "employee"
TABLE = "employees"


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class EmployeeRow:
    """An `employees` row without the identifier ciphertexts and blind indexes (masked forms only)."""

    id: UUID
    employee_code: str
    email: str
    first_name: str
    last_name: str
    phone: str | None
    department_id: UUID | None
    designation_id: UUID | None
    manager_id: UUID | None
    employment_type: str
    status: str
    date_of_joining: dt.date
    date_of_leaving: dt.date | None
    pan_masked: str | None
    aadhaar_masked: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class Filters:
    department_id: UUID | None = None
    designation_id: UUID | None = None
    manager_id: UUID | None = None
    status: str | None = None
    q: str | None = None


# ---------------------------------------------------------------- employees


def next_employee_code(tx: TenantTx) -> str:
    """`EMP-000001`, `EMP-000002`, ...: from a sequence, so concurrent hires never collide."""
    seq = f"{tx.tenant.schema_name}.employee_code_seq"  # schema name is pattern-checked (no quoting needed)
    n = rows.scalar(tx, sql.SQL("SELECT nextval(%s::regclass)"), (seq,))
    return f"EMP-{int(n):06d}"


def get(tx: TenantTx, employee_id: UUID, visibility: Visibility) -> EmployeeRow | None:
    """The employee if it exists and is visible to the caller."""
    query = sql.SQL("SELECT {} FROM {} e WHERE e.id = %(id)s AND {}").format(
        rows.columns(EmployeeRow, "e"), tx.t(TABLE), visibility.condition
    )
    return rows.one(tx, EmployeeRow, query, {"id": employee_id, **visibility.params})


def find(tx: TenantTx, employee_id: UUID, visibility: Visibility) -> EmployeeRow | None:
    """`get` under its older name, which callers outside this domain still use (payroll, dashboards,
    appraisals, documents: all only test the result for None)."""
    return get(tx, employee_id, visibility)


def many(tx: TenantTx, employee_ids: list[UUID]) -> list[EmployeeRow]:
    """The employees of `employee_ids` that exist (no visibility rule: for bulk checks of system writes)."""
    query = sql.SQL("SELECT {} FROM {} WHERE id = ANY(%s)").format(rows.columns(EmployeeRow), tx.t(TABLE))
    return rows.many(tx, EmployeeRow, query, (employee_ids,))


def lock(tx: TenantTx, employee_id: UUID) -> EmployeeRow:
    """The employee, locked for the rest of the transaction (404 if there is none)."""
    return crud.get_or_404(tx, TABLE, employee_id, ENTITY, EmployeeRow, for_update=True)


def list_page(
    tx: TenantTx, visibility: Visibility, filters: Filters, after: tuple[str, str, UUID] | None, limit: int
) -> list[EmployeeRow]:
    """Up to `limit` employees ordered by (last_name, first_name, id), strictly after `after`."""
    conditions: list[sql.Composable] = [visibility.condition]
    params: dict[str, object] = {**visibility.params, "limit": limit}
    for column in ("department_id", "designation_id", "manager_id", "status"):
        value = getattr(filters, column)
        if value is not None:
            conditions.append(sql.SQL("e.{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if filters.q:
        conditions.append(
            sql.SQL(
                "(e.first_name || ' ' || e.last_name ILIKE %(q)s OR e.last_name || ' ' || e.first_name ILIKE %(q)s"
                " OR e.email ILIKE %(q)s)"
            )
        )
        params["q"] = f"%{_like_escape(filters.q)}%"
    if after is not None:
        conditions.append(sql.SQL("(e.last_name, e.first_name, e.id) > (%(a_last)s, %(a_first)s, %(a_id)s)"))
        params.update(a_last=after[0], a_first=after[1], a_id=after[2])
    query = sql.SQL("SELECT {} FROM {} e WHERE {} ORDER BY e.last_name, e.first_name, e.id LIMIT %(limit)s").format(
        rows.columns(EmployeeRow, "e"), tx.t(TABLE), sql.SQL(" AND ").join(conditions)
    )
    return rows.many(tx, EmployeeRow, query, params)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def chain_reaches(tx: TenantTx, manager_id: UUID, employee_id: UUID) -> bool:
    """True if `employee_id` is `manager_id` or one of its managers, i.e. the new edge would close a cycle."""
    query = sql.SQL(
        "WITH RECURSIVE up(id, manager_id) AS ("
        " SELECT id, manager_id FROM {employees} WHERE id = %(start)s"
        " UNION SELECT m.id, m.manager_id FROM {employees} m JOIN up ON m.id = up.manager_id"
        ") SELECT 1 FROM up WHERE id = %(target)s"
    ).format(employees=tx.t(TABLE))
    return rows.scalar(tx, query, {"start": manager_id, "target": employee_id}) is not None


def insert(tx: TenantTx, values: Mapping[str, Any]) -> EmployeeRow:
    """Audited (`employee.created`; the audit row leaves out ciphertexts and blind indexes)."""
    return crud.insert(tx, TABLE, ENTITY, values, EmployeeRow)


def update(tx: TenantTx, employee_id: UUID, changes: Mapping[str, Any]) -> EmployeeRow:
    """Audited (`employee.updated`)."""
    return crud.update(tx, TABLE, ENTITY, employee_id, changes, EmployeeRow)


# ---------------------------------------------------------------- what a joining date is used by


def leaves_starting_before(tx: TenantTx, employee_id: UUID, day: dt.date) -> int:
    """How many pending or approved leaves of the employee start before `day`."""
    query = sql.SQL(
        "SELECT count(*) FROM {} WHERE employee_id = %s AND status IN ('pending', 'approved') AND start_date < %s"
    ).format(tx.t("leaves"))
    return int(rows.scalar(tx, query, (employee_id, day)) or 0)


def last_paid_month(tx: TenantTx, employee_id: UUID, up_to: dt.date) -> str | None:
    """`YYYY-MM` of the latest month up to `up_to`'s with a payroll record (of a run not rejected)."""
    query = sql.SQL(
        "SELECT to_char(max(p.month), 'YYYY-MM')"
        " FROM {payroll} p JOIN {runs} r ON r.id = p.payroll_run_id"
        " WHERE p.employee_id = %s AND r.status <> 'rejected' AND p.month <= date_trunc('month', %s::date)"
    ).format(payroll=tx.t("payroll"), runs=tx.t("payroll_runs"))
    month = rows.scalar(tx, query, (employee_id, up_to))
    return str(month) if month else None
