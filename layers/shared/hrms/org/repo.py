"""SQL of the organisation domain: the tenant's departments, designations and holidays; every table
through `tx.t(...)`, every value bound.

Rows come out typed: each row shape is a frozen dataclass below, filled by psycopg's `class_row`
(reads select exactly the dataclass's fields) or, for the audited writes of `hrms.db.crud` (which
return dict rows), by `_typed`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row, scalar_row

from hrms.db import crud, rows
from hrms.db.postgres import TenantTx, transaction

COUNTED_STATUSES = ("active", "on_leave")
DEPARTMENTS, DEPARTMENT = "departments", "department"
DESIGNATIONS, DESIGNATION = "designations", "designation"
HOLIDAYS, HOLIDAY = "holidays", "holiday"


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class DepartmentRow:
    """A `departments` row."""

    id: UUID
    name: str
    code: str
    parent_id: UUID | None
    head_employee_id: UUID | None
    description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class DesignationRow:
    """A `designations` row."""

    id: UUID
    title: str
    level: int | None
    department_id: UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class HolidayRow:
    """A `holidays` row."""

    id: UUID
    date: dt.date
    name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class DepartmentUsage:
    """What still refers to a department: employees (any status), sub-departments, designations."""

    employees: int
    sub_departments: int
    designations: int


@dataclass(frozen=True)
class HierarchyRow:
    """A department with its head's name and its direct active/on-leave headcount."""

    id: UUID
    name: str
    code: str
    parent_id: UUID | None
    head_employee_id: UUID | None
    head_name: str | None
    employee_count: int


@dataclass(frozen=True)
class TenantRef:
    """An active tenant of the registry."""

    id: UUID
    slug: str
    schema_name: str


# ---------------------------------------------------------------- departments


def departments(tx: TenantTx) -> list[DepartmentRow]:
    return rows.many(
        tx, DepartmentRow, sql.SQL("SELECT {} FROM {}").format(rows.columns(DepartmentRow), tx.t(DEPARTMENTS))
    )


def department(tx: TenantTx, department_id: UUID, *, for_update: bool = False) -> DepartmentRow:
    """The department (404 if there is none), locked for the rest of the transaction with `for_update`."""
    return crud.get_or_404(tx, DEPARTMENTS, department_id, DEPARTMENT, DepartmentRow, for_update=for_update)


def insert_department(tx: TenantTx, values: Mapping[str, Any]) -> DepartmentRow:
    """Audited (`department.created`)."""
    return crud.insert(tx, DEPARTMENTS, DEPARTMENT, values, DepartmentRow)


def update_department(tx: TenantTx, department_id: UUID, changes: Mapping[str, Any]) -> DepartmentRow:
    """Audited (`department.updated`)."""
    return crud.update(tx, DEPARTMENTS, DEPARTMENT, department_id, changes, DepartmentRow)


def delete_department(tx: TenantTx, department_id: UUID) -> None:
    """Audited (`department.deleted`); 404 if there is none."""
    crud.delete(tx, DEPARTMENTS, DEPARTMENT, department_id)


def lock_departments(tx: TenantTx) -> None:
    """Lock every department row in one order, so concurrent re-parentings cannot build a cycle together."""
    tx.execute(sql.SQL("SELECT id FROM {} ORDER BY id FOR NO KEY UPDATE").format(tx.t(DEPARTMENTS)))


def ancestors(tx: TenantTx, department_id: UUID) -> set[UUID]:
    """The department and every department above it (UNION stops even on a corrupted cyclic chain)."""
    query = sql.SQL(
        "WITH RECURSIVE up (id, parent_id) AS ("
        " SELECT id, parent_id FROM {d} WHERE id = %s"
        " UNION SELECT d.id, d.parent_id FROM {d} d JOIN up ON d.id = up.parent_id"
        ") SELECT id FROM up"
    ).format(d=tx.t(DEPARTMENTS))
    with tx.conn.cursor(row_factory=scalar_row) as cursor:
        return set(cursor.execute(query, (department_id,)).fetchall())


def department_usage(tx: TenantTx, department_id: UUID) -> DepartmentUsage:
    query = sql.SQL(
        "SELECT (SELECT count(*) FROM {e} WHERE department_id = %(id)s) AS employees,"
        " (SELECT count(*) FROM {d} WHERE parent_id = %(id)s) AS sub_departments,"
        " (SELECT count(*) FROM {g} WHERE department_id = %(id)s) AS designations"
    ).format(e=tx.t("employees"), d=tx.t(DEPARTMENTS), g=tx.t(DESIGNATIONS))
    usage = rows.one(tx, DepartmentUsage, query, {"id": department_id})
    assert usage is not None
    return usage


def hierarchy_rows(tx: TenantTx) -> list[HierarchyRow]:
    """Every department with its direct active/on-leave headcount and its head's name."""
    query = sql.SQL(
        "SELECT d.id, d.name, d.code, d.parent_id, d.head_employee_id,"
        " h.first_name || ' ' || h.last_name AS head_name, coalesce(c.n, 0) AS employee_count"
        " FROM {d} d"
        " LEFT JOIN {e} h ON h.id = d.head_employee_id"
        " LEFT JOIN (SELECT department_id, count(*) AS n FROM {e}"
        "  WHERE status = ANY(%s) AND department_id IS NOT NULL GROUP BY department_id) c"
        " ON c.department_id = d.id"
    ).format(d=tx.t(DEPARTMENTS), e=tx.t("employees"))
    return rows.many(tx, HierarchyRow, query, (list(COUNTED_STATUSES),))


# ---------------------------------------------------------------- designations


def designations(tx: TenantTx) -> list[DesignationRow]:
    return rows.many(
        tx, DesignationRow, sql.SQL("SELECT {} FROM {}").format(rows.columns(DesignationRow), tx.t(DESIGNATIONS))
    )


def designation(tx: TenantTx, designation_id: UUID, *, for_update: bool = False) -> DesignationRow:
    """The designation (404 if there is none), locked for the rest of the transaction with `for_update`."""
    return crud.get_or_404(tx, DESIGNATIONS, designation_id, DESIGNATION, DesignationRow, for_update=for_update)


def insert_designation(tx: TenantTx, values: Mapping[str, Any]) -> DesignationRow:
    """Audited (`designation.created`)."""
    return crud.insert(tx, DESIGNATIONS, DESIGNATION, values, DesignationRow)


def update_designation(tx: TenantTx, designation_id: UUID, changes: Mapping[str, Any]) -> DesignationRow:
    """Audited (`designation.updated`)."""
    return crud.update(tx, DESIGNATIONS, DESIGNATION, designation_id, changes, DesignationRow)


def delete_designation(tx: TenantTx, designation_id: UUID) -> None:
    """Audited (`designation.deleted`); 404 if there is none."""
    crud.delete(tx, DESIGNATIONS, DESIGNATION, designation_id)


def designation_holders(tx: TenantTx, designation_id: UUID) -> int:
    query = sql.SQL("SELECT count(*) FROM {} WHERE designation_id = %s").format(tx.t("employees"))
    return int(rows.scalar(tx, query, (designation_id,)) or 0)


# ---------------------------------------------------------------- holidays


def holidays(tx: TenantTx, year: int, after: dt.date | None, limit: int) -> list[HolidayRow]:
    query = sql.SQL(
        "SELECT {} FROM {} WHERE date >= %(start)s AND date < %(end)s"
        " AND (%(after)s::date IS NULL OR date > %(after)s) ORDER BY date LIMIT %(limit)s"
    ).format(rows.columns(HolidayRow), tx.t(HOLIDAYS))
    params = {"start": dt.date(year, 1, 1), "end": dt.date(year + 1, 1, 1), "after": after, "limit": limit}
    return rows.many(tx, HolidayRow, query, params)


def insert_holiday(tx: TenantTx, values: Mapping[str, Any]) -> HolidayRow:
    """Audited (`holiday.created`)."""
    return crud.insert(tx, HOLIDAYS, HOLIDAY, values, HolidayRow)


def delete_holiday(tx: TenantTx, holiday_id: UUID) -> None:
    """Audited (`holiday.deleted`); 404 if there is none."""
    crud.delete(tx, HOLIDAYS, HOLIDAY, holiday_id)


# ---------------------------------------------------------------- checks and settings


def employee_status(tx: TenantTx, employee_id: UUID) -> str | None:
    status = rows.scalar(tx, sql.SQL("SELECT status FROM {} WHERE id = %s").format(tx.t("employees")), (employee_id,))
    return None if status is None else str(status)


def active_tenants() -> list[TenantRef]:
    """Every active tenant of the registry (id, slug, schema name), for the cache warm-up."""
    with transaction() as conn, conn.cursor(row_factory=class_row(TenantRef)) as cursor:
        return cursor.execute(
            "SELECT id, slug, schema_name FROM public.tenants WHERE status = 'active' ORDER BY schema_name"
        ).fetchall()
