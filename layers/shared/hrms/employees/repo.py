"""SQL of the employees domain; every table through `tx.t(...)`, every value bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.auth.scope import Visibility
from hrms.db import crud
from hrms.db.postgres import TenantTx

Row = dict[str, Any]

ENTITY = "employee"
TABLE = "employees"


@dataclass(frozen=True)
class Filters:
    department_id: UUID | None = None
    designation_id: UUID | None = None
    manager_id: UUID | None = None
    status: str | None = None
    q: str | None = None


def next_employee_code(tx: TenantTx) -> str:
    """`EMP-000001`, `EMP-000002`, ...: from a sequence, so concurrent hires never collide."""
    seq = f"{tx.tenant.schema_name}.employee_code_seq"  # schema name is pattern-checked (no quoting needed)
    row = tx.execute(sql.SQL("SELECT nextval(%s::regclass) AS n"), (seq,)).fetchone()
    assert row is not None
    return f"EMP-{int(row['n']):06d}"


def find(tx: TenantTx, employee_id: UUID, visibility: Visibility) -> Row | None:
    """The employee if it exists and is visible to the caller."""
    query = sql.SQL("SELECT e.* FROM {} e WHERE e.id = %(id)s AND {}").format(tx.t(TABLE), visibility.condition)
    return tx.execute(query, {"id": employee_id, **visibility.params}).fetchone()


def lock(tx: TenantTx, employee_id: UUID) -> Row:
    return crud.get_or_404(tx, TABLE, employee_id, ENTITY, for_update=True)


def list_page(
    tx: TenantTx, visibility: Visibility, filters: Filters, after: tuple[str, str, UUID] | None, limit: int
) -> list[Row]:
    """Up to `limit` employees ordered by (last_name, first_name, id), strictly after `after`."""
    conditions: list[sql.Composable] = [visibility.condition]
    params: dict[str, Any] = {**visibility.params, "limit": limit}
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
    query = sql.SQL("SELECT e.* FROM {} e WHERE {} ORDER BY e.last_name, e.first_name, e.id LIMIT %(limit)s").format(
        tx.t(TABLE), sql.SQL(" AND ").join(conditions)
    )
    return tx.execute(query, params).fetchall()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def exists(tx: TenantTx, table: str, row_id: UUID) -> bool:
    query = sql.SQL("SELECT 1 FROM {} WHERE id = %s").format(tx.t(table))
    return tx.execute(query, (row_id,)).fetchone() is not None


def status_of(tx: TenantTx, employee_id: UUID) -> str | None:
    row = tx.execute(sql.SQL("SELECT status FROM {} WHERE id = %s").format(tx.t(TABLE)), (employee_id,)).fetchone()
    return row["status"] if row else None


def chain_reaches(tx: TenantTx, manager_id: UUID, employee_id: UUID) -> bool:
    """True if `employee_id` is `manager_id` or one of its managers, i.e. the new edge would close a cycle."""
    query = sql.SQL(
        "WITH RECURSIVE up(id, manager_id) AS ("
        " SELECT id, manager_id FROM {employees} WHERE id = %(start)s"
        " UNION SELECT m.id, m.manager_id FROM {employees} m JOIN up ON m.id = up.manager_id"
        ") SELECT 1 FROM up WHERE id = %(target)s"
    ).format(employees=tx.t(TABLE))
    return tx.execute(query, {"start": manager_id, "target": employee_id}).fetchone() is not None


def insert(tx: TenantTx, values: dict[str, Any]) -> Row:
    return crud.insert(tx, TABLE, ENTITY, values)


def update(tx: TenantTx, employee_id: UUID, changes: dict[str, Any]) -> Row:
    return crud.update(tx, TABLE, ENTITY, employee_id, changes)
