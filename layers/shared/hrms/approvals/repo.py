"""SQL of the approval engine; every table through `tx.t(...)`, every value bound.

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
from psycopg.rows import scalar_row
from psycopg.types.json import Jsonb

from hrms.approvals.models import ApproverType, TaskStatus
from hrms.db import crud, rows
from hrms.db.postgres import TenantTx

Steps = list[dict[str, Any]]  # a workflow's jsonb steps as stored (`approverType`, `role`), validated on write

TABLE = "approvals"
WORKFLOWS = "approval_workflows"
ENTITY = "approval"


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class WorkflowRow:
    """An `approval_workflows` row."""

    entity_type: str
    steps: Steps
    updated_at: dt.datetime


@dataclass(frozen=True)
class TaskRow:
    """An `approvals` row: one step's task of an entity awaiting approval."""

    id: UUID
    entity_type: str
    entity_id: UUID
    step: int
    approver_type: ApproverType
    approver_role: str | None
    assignee_employee_id: UUID | None
    subject_employee_id: UUID | None
    status: TaskStatus
    decided_by: UUID | None
    decided_at: dt.datetime | None
    comment: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


# ---------------------------------------------------------------- workflows


def workflow(tx: TenantTx, entity_type: str, *, for_update: bool = False) -> WorkflowRow | None:
    """The entity type's stored workflow (locked for the rest of the transaction with `for_update`)."""
    query = sql.SQL("SELECT {} FROM {} WHERE entity_type = %s").format(rows.columns(WorkflowRow), tx.t(WORKFLOWS))
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    return rows.one(tx, WorkflowRow, query, (entity_type,))


def lock_workflow(tx: TenantTx, entity_type: str) -> WorkflowRow | None:
    return workflow(tx, entity_type, for_update=True)


def upsert_workflow(tx: TenantTx, entity_type: str, steps: Steps) -> WorkflowRow:
    """Not audited here."""
    query = sql.SQL(
        "INSERT INTO {} AS w (entity_type, steps) VALUES (%s, %s)"
        " ON CONFLICT (entity_type) DO UPDATE SET steps = excluded.steps, updated_at = now()"
        " RETURNING {}"
    ).format(tx.t(WORKFLOWS), rows.columns(WorkflowRow))
    row = rows.one(tx, WorkflowRow, query, (entity_type, Jsonb(steps)))
    assert row is not None
    return row


# ---------------------------------------------------------------- tasks


def active_manager(tx: TenantTx, employee_id: UUID) -> UUID | None:
    """The employee's manager, unless that manager has left."""
    query = sql.SQL(
        "SELECT m.id FROM {employees} e JOIN {employees} m ON m.id = e.manager_id"
        " WHERE e.id = %s AND m.status <> 'terminated'"
    ).format(employees=tx.t("employees"))
    with tx.conn.cursor(row_factory=scalar_row) as cursor:
        manager = cursor.execute(query, (employee_id,)).fetchone()
    return manager if isinstance(manager, UUID) else None


def insert_task(tx: TenantTx, values: Mapping[str, object]) -> TaskRow:
    """Audited (`approval.created`)."""
    return crud.insert(tx, TABLE, ENTITY, values, TaskRow)


def update_task(tx: TenantTx, approval_id: UUID, changes: Mapping[str, object]) -> TaskRow:
    """Audited (`approval.updated`)."""
    return crud.update(tx, TABLE, ENTITY, approval_id, changes, TaskRow)


def lock_task(tx: TenantTx, approval_id: UUID) -> TaskRow | None:
    """The task, row-locked: concurrent deciders queue here and see each other's outcome."""
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s FOR UPDATE").format(rows.columns(TaskRow), tx.t(TABLE))
    return rows.one(tx, TaskRow, query, (approval_id,))


def lock_open_tasks(tx: TenantTx, entity_type: str, entity_id: UUID) -> list[TaskRow]:
    query = sql.SQL(
        "SELECT {} FROM {} WHERE entity_type = %s AND entity_id = %s AND status = 'pending' ORDER BY step FOR UPDATE"
    ).format(rows.columns(TaskRow), tx.t(TABLE))
    return rows.many(tx, TaskRow, query, (entity_type, entity_id))


def open_task(tx: TenantTx, entity_type: str, entity_id: UUID) -> TaskRow | None:
    query = sql.SQL(
        "SELECT {} FROM {} WHERE entity_type = %s AND entity_id = %s AND status = 'pending' ORDER BY step LIMIT 1"
    ).format(rows.columns(TaskRow), tx.t(TABLE))
    return rows.one(tx, TaskRow, query, (entity_type, entity_id))


def list_page(
    tx: TenantTx,
    visible: sql.Composable,
    params: Mapping[str, object],
    *,
    status: str | None,
    entity_type: str | None,
    after: tuple[dt.datetime, UUID] | None,
    limit: int,
) -> list[TaskRow]:
    """Tasks matching `visible` (on `a` = approvals, `e` = the subject employee), oldest first."""
    conditions: list[sql.Composable] = [visible]
    bound: dict[str, object] = {**params, "limit": limit}
    if status is not None:
        conditions.append(sql.SQL("a.status = %(status)s"))
        bound["status"] = status
    if entity_type is not None:
        conditions.append(sql.SQL("a.entity_type = %(entity_type)s"))
        bound["entity_type"] = entity_type
    if after is not None:
        conditions.append(sql.SQL("(a.created_at, a.id) > (%(a_created)s, %(a_id)s)"))
        bound.update(a_created=after[0], a_id=after[1])
    query = sql.SQL(
        "SELECT {columns} FROM {approvals} a LEFT JOIN {employees} e ON e.id = a.subject_employee_id"
        " WHERE {conditions} ORDER BY a.created_at, a.id LIMIT %(limit)s"
    ).format(
        columns=rows.columns(TaskRow, "a"),
        approvals=tx.t(TABLE),
        employees=tx.t("employees"),
        conditions=sql.SQL(" AND ").join(conditions),
    )
    return rows.many(tx, TaskRow, query, bound)
