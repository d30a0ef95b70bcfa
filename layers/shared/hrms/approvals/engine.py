"""The approval engine as other domains use it, inside their own transaction.

- `start(tx, entity_type, entity_id, subject)` opens the first step's task of the entity type's
  workflow (`approval_workflows.steps`, read when each step opens, so a workflow change applies to
  the next step of requests already under way).
- `decide(tx, approval_id, decision)` locks the task (`SELECT ... FOR UPDATE`: concurrent or
  repeated decisions queue on the row and all but the first get a 409), checks that the caller
  may decide it, records the decision, then opens the next step or finalises the entity through
  its registered handler (`hrms.approvals.registry`). A rejection at any step is final.
- `cancel_open(tx, entity_type, entity_id)` cancels the pending task(s) of a withdrawn entity.

Who decides: a reporting-manager step is assigned to the subject's manager (at the time the step
opens); if the subject has no active manager, the step becomes a role step for `hr_manager`.
A role step may be decided by any user of that role who holds the entity type's approve permission
unscoped; a reporting-manager step by its assignee holding it at least `:team`. An admin may decide
any task. The same rules hold whichever route decides (the entity's own or `/approvals/{id}/decision`):
nobody decides a task about themselves (403 `self-decision`), and the entity type's handler adds its
own duties (payroll: the run's creator does not approve it). Every write is audited in the caller's transaction,
and changes drop the executive and the affected employees' dashboards.

Events (hrms.outbox, in the caller's transaction, published once it commits): `approval.requested` for
every task opened (first or next step), `approval.decided` for every decision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from hrms.approvals import registry, repo
from hrms.approvals.models import Decision, DecisionIn, Outcome
from hrms.approvals.repo import Steps, TaskRow
from hrms.auth import duties
from hrms.auth.permissions import held
from hrms.auth.policy import scope_of
from hrms.auth.scope import caller_employee_id
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx
from hrms.errors import Conflict, Forbidden, NotFound
from hrms.outbox import APPROVAL_DECIDED, APPROVAL_REQUESTED
from hrms.tenancy import Actor
from hrms.tenants import defaults

FALLBACK_ROLE = "hr_manager"  # decides reporting-manager steps of requesters without a manager


def steps_of(tx: TenantTx, entity_type: str) -> Steps:
    """The entity type's steps; the tenant default if the tenant has none stored."""
    row = repo.workflow(tx, entity_type)
    return list(row.steps) if row else list(defaults.WORKFLOWS.get(entity_type, []))


def start(tx: TenantTx, entity_type: str, entity_id: UUID, subject_employee_id: UUID | None) -> TaskRow:
    """Open the first step's task for a new entity awaiting approval."""
    registry.known(entity_type)
    steps = steps_of(tx, entity_type) or [{"approverType": "role", "role": FALLBACK_ROLE}]
    task = _open_step(tx, entity_type, entity_id, subject_employee_id, 1, steps)
    assert task is not None
    return task


def decide(tx: TenantTx, approval_id: UUID, decision: DecisionIn) -> Decision:
    """Approve or reject one pending task, then open the next step or finalise the entity."""
    task = repo.lock_task(tx, approval_id)
    if task is None:
        raise NotFound("No such approval.")
    check_may_decide(tx, task)
    if task.status != "pending":
        raise Conflict(f"This approval has already been {task.status}.", approvalId=str(approval_id))
    outcome: Outcome = "approved" if decision.decision == "approve" else "rejected"
    decided = repo.update_task(tx, approval_id, {**_decided_by(tx.actor, outcome), "comment": decision.comment})
    entity_type, entity_id, subject = task.entity_type, task.entity_id, task.subject_employee_id
    handler = registry.handler_for(entity_type)
    next_task = None
    if outcome == "approved":
        next_task = _open_step(tx, entity_type, entity_id, subject, task.step + 1, steps_of(tx, entity_type))
    if next_task is not None:
        handler.on_step(tx, entity_id, next_task)
        entity_status = "pending"
    else:
        entity_status = handler.finalise(tx, entity_id, outcome)
    decision_payload = {
        "approvalId": approval_id,
        "entityType": entity_type,
        "entityId": entity_id,
        "step": task.step,
        "outcome": outcome,
        "entityStatus": entity_status,
        "decidedBy": decided.decided_by,
        "subjectEmployeeId": subject,
    }
    declare(
        tx,
        Change("approval", (subject, task.assignee_employee_id), event=APPROVAL_DECIDED, payload=decision_payload),
    )
    return Decision(
        approval_id=approval_id,
        status=decided.status,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_status=entity_status,
        next_approval_id=next_task.id if next_task else None,
    )


def cancel_open(tx: TenantTx, entity_type: str, entity_id: UUID) -> list[TaskRow]:
    """Cancel the entity's pending task(s): its requester withdrew it. Locks them first."""
    cancelled = [
        repo.update_task(tx, task.id, _decided_by(tx.actor, "cancelled"))
        for task in repo.lock_open_tasks(tx, entity_type, entity_id)
    ]
    if cancelled:
        people = (cancelled[0].subject_employee_id, *(t.assignee_employee_id for t in cancelled))
        declare(tx, Change("approval", people))
    return cancelled


def open_task(tx: TenantTx, entity_type: str, entity_id: UUID) -> TaskRow | None:
    """The entity's pending task, if any (unlocked)."""
    return repo.open_task(tx, entity_type, entity_id)


def check_may_decide(tx: TenantTx, task: TaskRow) -> None:
    """403 unless the caller is the task's assignee (or an admin) with the approve permission, is not
    its subject, and the entity type's own duties allow it."""
    actor = _actor(tx)
    duties.not_about_self(tx, task.subject_employee_id, "decide")
    entity = registry.known(task.entity_type)
    scope = scope_of(held(tx, actor), entity.approve_permission)
    if actor.role != "admin":
        me = caller_employee_id(tx, actor)
        if task.approver_type == "reporting_manager":
            allowed = scope in ("all", "team") and me is not None and me == task.assignee_employee_id
        else:
            allowed = scope == "all" and actor.role == task.approver_role
        if not allowed:
            raise Forbidden("This approval is assigned to someone else.")
    registry.handler_for(task.entity_type).check_duties(tx, task.entity_id, task)


def _open_step(
    tx: TenantTx,
    entity_type: str,
    entity_id: UUID,
    subject: UUID | None,
    number: int,
    steps: Steps,
) -> TaskRow | None:
    if number > len(steps):
        return None
    step = steps[number - 1]
    values: dict[str, Any] = {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "step": number,
        "subject_employee_id": subject,
    }
    manager = None
    if step.get("approverType") == "reporting_manager" and subject is not None:
        manager = repo.active_manager(tx, subject)
    if manager is not None:
        values.update(approver_type="reporting_manager", assignee_employee_id=manager)
    else:
        role = step.get("role") if step.get("approverType") == "role" else None
        values.update(approver_type="role", approver_role=role or FALLBACK_ROLE)
    task = repo.insert_task(tx, values)
    request = {
        "approvalId": task.id,
        "entityType": entity_type,
        "entityId": entity_id,
        "step": number,
        "approverType": task.approver_type,
        "approverRole": task.approver_role,
        "assigneeEmployeeId": task.assignee_employee_id,
        "subjectEmployeeId": subject,
    }
    declare(tx, Change("approval", (subject, task.assignee_employee_id), event=APPROVAL_REQUESTED, payload=request))
    return task


def _actor(tx: TenantTx) -> Actor:
    if tx.actor is None:
        raise RuntimeError("deciding an approval needs an actor on the transaction")
    return tx.actor


def _decided_by(actor: Actor | None, status: str) -> dict[str, Any]:
    user_id = actor.user_uuid if actor is not None else None
    return {"status": status, "decided_by": user_id, "decided_at": dt.datetime.now(dt.UTC)}
