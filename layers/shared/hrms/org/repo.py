"""Organisation SQL: reads and checks on the tenant's departments, designations and holidays.

Writes go through `hrms.db.crud` (audited) from the service; only reads and locks live here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.db.postgres import TenantTx, transaction

Row = dict[str, Any]

COUNTED_STATUSES = ("active", "on_leave")


def departments(tx: TenantTx) -> list[Row]:
    return tx.execute(
        sql.SQL(
            "SELECT id, name, code, parent_id, head_employee_id, description, created_at, updated_at FROM {}"
        ).format(tx.t("departments"))
    ).fetchall()


def designations(tx: TenantTx) -> list[Row]:
    return tx.execute(
        sql.SQL("SELECT id, title, level, department_id, created_at, updated_at FROM {}").format(tx.t("designations"))
    ).fetchall()


def holidays(tx: TenantTx, year: int, after: dt.date | None, limit: int) -> list[Row]:
    return tx.execute(
        sql.SQL(
            "SELECT id, date, name, created_at FROM {} WHERE date >= %(start)s AND date < %(end)s"
            " AND (%(after)s::date IS NULL OR date > %(after)s) ORDER BY date LIMIT %(limit)s"
        ).format(tx.t("holidays")),
        {"start": dt.date(year, 1, 1), "end": dt.date(year + 1, 1, 1), "after": after, "limit": limit},
    ).fetchall()


def lock_departments(tx: TenantTx) -> None:
    """Lock every department row in one order, so concurrent re-parentings cannot build a cycle together."""
    tx.execute(sql.SQL("SELECT id FROM {} ORDER BY id FOR NO KEY UPDATE").format(tx.t("departments")))


def exists(tx: TenantTx, table: str, row_id: UUID) -> bool:
    return tx.execute(sql.SQL("SELECT 1 FROM {} WHERE id = %s").format(tx.t(table)), (row_id,)).fetchone() is not None


def employee_status(tx: TenantTx, employee_id: UUID) -> str | None:
    row = tx.execute(
        sql.SQL("SELECT status FROM {} WHERE id = %s").format(tx.t("employees")), (employee_id,)
    ).fetchone()
    return row["status"] if row else None


def ancestors(tx: TenantTx, department_id: UUID) -> set[UUID]:
    """The department and every department above it (UNION stops even on a corrupted cyclic chain)."""
    rows = tx.execute(
        sql.SQL(
            "WITH RECURSIVE up (id, parent_id) AS ("
            " SELECT id, parent_id FROM {d} WHERE id = %s"
            " UNION SELECT d.id, d.parent_id FROM {d} d JOIN up ON d.id = up.parent_id"
            ") SELECT id FROM up"
        ).format(d=tx.t("departments")),
        (department_id,),
    ).fetchall()
    return {row["id"] for row in rows}


def department_usage(tx: TenantTx, department_id: UUID) -> dict[str, int]:
    """What still refers to a department: employees (any status), sub-departments, designations."""
    row = tx.execute(
        sql.SQL(
            "SELECT (SELECT count(*) FROM {e} WHERE department_id = %(id)s) AS employees,"
            " (SELECT count(*) FROM {d} WHERE parent_id = %(id)s) AS sub_departments,"
            " (SELECT count(*) FROM {g} WHERE department_id = %(id)s) AS designations"
        ).format(e=tx.t("employees"), d=tx.t("departments"), g=tx.t("designations")),
        {"id": department_id},
    ).fetchone()
    assert row is not None
    return {key: int(value) for key, value in row.items()}


def designation_holders(tx: TenantTx, designation_id: UUID) -> int:
    row = tx.execute(
        sql.SQL("SELECT count(*) AS n FROM {} WHERE designation_id = %s").format(tx.t("employees")), (designation_id,)
    ).fetchone()
    return int(row["n"]) if row else 0


def hierarchy_rows(tx: TenantTx) -> list[Row]:
    """Every department with its direct active/on-leave headcount and its head's name."""
    return tx.execute(
        sql.SQL(
            "SELECT d.id, d.name, d.code, d.parent_id, d.head_employee_id,"
            " h.first_name || ' ' || h.last_name AS head_name, coalesce(c.n, 0) AS employee_count"
            " FROM {d} d"
            " LEFT JOIN {e} h ON h.id = d.head_employee_id"
            " LEFT JOIN (SELECT department_id, count(*) AS n FROM {e}"
            "  WHERE status = ANY(%s) AND department_id IS NOT NULL GROUP BY department_id) c"
            " ON c.department_id = d.id"
        ).format(d=tx.t("departments"), e=tx.t("employees")),
        (list(COUNTED_STATUSES),),
    ).fetchall()


def tenant_timezone(tx: TenantTx) -> str | None:
    row = tx.execute(
        sql.SQL("SELECT value #>> '{{}}' AS tz FROM {} WHERE key = 'timezone'").format(tx.t("organization_settings"))
    ).fetchone()
    return row["tz"] if row else None


def active_tenants() -> list[Row]:
    """Every active tenant of the registry (id, slug, schema name), for the cache warm-up."""
    with transaction() as conn:
        return conn.execute(
            "SELECT id, slug, schema_name FROM public.tenants WHERE status = 'active' ORDER BY schema_name"
        ).fetchall()
