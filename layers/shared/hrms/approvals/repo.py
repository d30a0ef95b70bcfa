"""SQL of the approval engine; every table through `tx.t(...)`, every value bound."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from hrms.db import crud
from hrms.db.postgres import TenantTx

Row = dict[str, Any]
TABLE = "approvals"
ENTITY = "approval"


def workflow(tx: TenantTx, entity_type: str) -> Row | None:
    return tx.execute(
        sql.SQL("SELECT entity_type, steps, updated_at FROM {} WHERE entity_type = %s").format(
            tx.t("approval_workflows")
        ),
        (entity_type,),
    ).fetchone()


def lock_workflow(tx: TenantTx, entity_type: str) -> Row | None:
    return tx.execute(
        sql.SQL("SELECT entity_type, steps, updated_at FROM {} WHERE entity_type = %s FOR UPDATE").format(
            tx.t("approval_workflows")
        ),
        (entity_type,),
    ).fetchone()


def upsert_workflow(tx: TenantTx, entity_type: str, steps: list[dict[str, Any]]) -> Row:
    row = tx.execute(
        sql.SQL(
            "INSERT INTO {} AS w (entity_type, steps) VALUES (%s, %s)"
            " ON CONFLICT (entity_type) DO UPDATE SET steps = excluded.steps, updated_at = now()"
            " RETURNING entity_type, steps, updated_at"
        ).format(tx.t("approval_workflows")),
        (entity_type, Jsonb(steps)),
    ).fetchone()
    assert row is not None
    return row


def active_manager(tx: TenantTx, employee_id: UUID) -> UUID | None:
    """The employee's manager, unless that manager has left."""
    row = tx.execute(
        sql.SQL(
            "SELECT m.id FROM {employees} e JOIN {employees} m ON m.id = e.manager_id"
            " WHERE e.id = %s AND m.status <> 'terminated'"
        ).format(employees=tx.t("employees")),
        (employee_id,),
    ).fetchone()
    return row["id"] if row else None


def insert_task(tx: TenantTx, values: dict[str, Any]) -> Row:
    return crud.insert(tx, TABLE, ENTITY, values)


def update_task(tx: TenantTx, approval_id: UUID, changes: dict[str, Any]) -> Row:
    return crud.update(tx, TABLE, ENTITY, approval_id, changes)


def lock_task(tx: TenantTx, approval_id: UUID) -> Row | None:
    """The task, row-locked: concurrent deciders queue here and see each other's outcome."""
    return crud.get(tx, TABLE, approval_id, for_update=True)


def lock_open_tasks(tx: TenantTx, entity_type: str, entity_id: UUID) -> list[Row]:
    return tx.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE entity_type = %s AND entity_id = %s AND status = 'pending' ORDER BY step FOR UPDATE"
        ).format(tx.t(TABLE)),
        (entity_type, entity_id),
    ).fetchall()


def open_task(tx: TenantTx, entity_type: str, entity_id: UUID) -> Row | None:
    return tx.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE entity_type = %s AND entity_id = %s AND status = 'pending' ORDER BY step LIMIT 1"
        ).format(tx.t(TABLE)),
        (entity_type, entity_id),
    ).fetchone()


def list_page(
    tx: TenantTx,
    visible: sql.Composable,
    params: dict[str, Any],
    *,
    status: str | None,
    entity_type: str | None,
    after: tuple[dt.datetime, UUID] | None,
    limit: int,
) -> list[Row]:
    """Tasks matching `visible` (on `a` = approvals, `e` = the subject employee), oldest first."""
    conditions: list[sql.Composable] = [visible]
    params = {**params, "limit": limit}
    if status is not None:
        conditions.append(sql.SQL("a.status = %(status)s"))
        params["status"] = status
    if entity_type is not None:
        conditions.append(sql.SQL("a.entity_type = %(entity_type)s"))
        params["entity_type"] = entity_type
    if after is not None:
        conditions.append(sql.SQL("(a.created_at, a.id) > (%(a_created)s, %(a_id)s)"))
        params.update(a_created=after[0], a_id=after[1])
    query = sql.SQL(
        "SELECT a.* FROM {approvals} a LEFT JOIN {employees} e ON e.id = a.subject_employee_id"
        " WHERE {conditions} ORDER BY a.created_at, a.id LIMIT %(limit)s"
    ).format(approvals=tx.t(TABLE), employees=tx.t("employees"), conditions=sql.SQL(" AND ").join(conditions))
    return tx.execute(query, params).fetchall()
