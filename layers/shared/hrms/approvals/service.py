"""HTTP operations of the approval engine: list tasks, decide one, read and change workflows."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.approvals import registry, repo
from hrms.approvals.models import Approval, Decision, DecisionIn, TaskStatus, Workflow, WorkflowIn
from hrms.approvals.repo import TaskRow
from hrms.auth.permissions import held
from hrms.auth.policy import scope_of
from hrms.auth.scope import caller_employee_id, visible
from hrms.db import audit_log
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.errors import NotFound
from hrms.pagination import Page, decode_keyset, page_of
from hrms.tenancy import Actor, Tenant


def list_approvals(
    tenant: Tenant,
    actor: Actor,
    *,
    mine: bool,
    status: TaskStatus,
    entity_type: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Approval]:
    """Tasks oldest first. `mine`: those the caller may decide (their reports' tasks, their role's tasks).

    Otherwise also the caller's own requests, and every task of an entity type whose read permission
    the caller holds (their reporting line's with a `:team` permission, all of them without a suffix).
    """
    after = decode_keyset(cursor, dt.datetime.fromisoformat, UUID)
    with tenant_tx(tenant, actor) as tx:
        condition, params = _visibility(tx, actor, mine)
        rows = repo.list_page(
            tx, condition, params, status=status, entity_type=entity_type, after=after, limit=limit + 1
        )
    return page_of(rows, limit, lambda last: [last.created_at.isoformat(), str(last.id)], approval)


def decide_approval(tenant: Tenant, actor: Actor, approval_id: UUID, decision: DecisionIn) -> Decision:
    from hrms.approvals import engine  # and the outbox behind it: DecideApproval imports them at init, the reads never

    with tenant_tx(tenant, actor) as tx:
        return engine.decide(tx, approval_id, decision)


def get_workflow(tenant: Tenant, actor: Actor, entity_type: str) -> Workflow:
    with tenant_tx(tenant, actor) as tx:
        row = repo.workflow(tx, entity_type)
    if row is None:
        raise NotFound("No approval workflow for this entity type.")
    return Workflow.model_validate(asdict(row))


def set_workflow(tenant: Tenant, actor: Actor, entity_type: str, new: WorkflowIn) -> Workflow:
    """Replace the steps. Tasks already open stay as they are; their next steps follow the new list."""
    registry.known(entity_type)
    steps = [step.model_dump(by_alias=True, exclude_none=True) for step in new.steps]
    with tenant_tx(tenant, actor) as tx:
        before = repo.lock_workflow(tx, entity_type)
        row = repo.upsert_workflow(tx, entity_type, steps)
        audit_log.record(
            tx,
            "approval_workflow.updated",
            "approval_workflow",
            entity_type,
            {"steps": before.steps} if before else None,
            {"steps": row.steps},
        )
    return Workflow.model_validate(asdict(row))


def approval(row: TaskRow) -> Approval:
    return Approval(
        approval_id=row.id,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        step=row.step,
        approver_type=row.approver_type,
        approver_role=row.approver_role,
        assignee_employee_id=row.assignee_employee_id,
        subject_employee_id=row.subject_employee_id,
        status=row.status,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        comment=row.comment,
        created_at=row.created_at,
    )


def _visibility(tx: TenantTx, actor: Actor, mine: bool) -> tuple[sql.Composable, dict[str, Any]]:
    me = caller_employee_id(tx, actor)
    params: dict[str, Any] = {"me": me, "role": actor.role}
    parts: list[sql.Composable] = [
        sql.SQL(
            "(a.approver_type = 'reporting_manager' AND a.assignee_employee_id = %(me)s"
            " OR a.approver_type = 'role' AND a.approver_role = %(role)s)"
        )
    ]
    if not mine:
        if me is not None:
            parts.append(sql.SQL("a.subject_employee_id = %(me)s"))
        for number, (entity_type, meta) in enumerate(registry.ENTITY_TYPES.items()):
            scope = scope_of(held(tx, actor), meta.read_permission)
            if scope is None:
                continue
            vis = visible(tx, scope, actor)
            parts.append(sql.SQL("(a.entity_type = {} AND {})").format(sql.Placeholder(f"et{number}"), vis.condition))
            params.update(vis.params)
            params[f"et{number}"] = entity_type
    return sql.SQL("({})").format(sql.SQL(" OR ").join(parts)), params
