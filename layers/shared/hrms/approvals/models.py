"""Approval workflows, tasks and decisions on the wire."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from hrms.models import ApiModel, InputModel
from hrms.models import Comment as Comment

ApproverType = Literal["role", "reporting_manager"]
# Roles a step may name; `employee` would let anyone approve anything.
ApproverRole = Literal["admin", "hr_manager", "manager"]
TaskStatus = Literal["pending", "approved", "rejected", "cancelled"]
Outcome = Literal["approved", "rejected"]


class WorkflowStep(InputModel):
    """One step: the requester's reporting manager, or any user of a role."""

    approver_type: ApproverType
    role: ApproverRole | None = Field(default=None, description="Required for (and only for) a role step.")

    @model_validator(mode="after")
    def _role_matches_type(self) -> WorkflowStep:
        if (self.approver_type == "role") != (self.role is not None):
            raise ValueError("a role step names a role; a reporting_manager step does not")
        return self


class WorkflowIn(InputModel):
    steps: list[WorkflowStep] = Field(min_length=1, max_length=5, description="Decided in this order.")


class Workflow(ApiModel):
    entity_type: str
    steps: list[WorkflowStep]
    updated_at: dt.datetime | None = None


class Approval(ApiModel):
    approval_id: UUID
    entity_type: str
    entity_id: UUID
    step: int
    approver_type: ApproverType
    approver_role: str | None = Field(description="Set on role steps: any user of this role may decide.")
    assignee_employee_id: UUID | None = Field(description="Set on reporting-manager steps: the manager.")
    subject_employee_id: UUID | None = Field(description="Whose request it is (cannot decide it themself).")
    status: TaskStatus
    decided_by: UUID | None
    decided_at: dt.datetime | None
    comment: str | None
    created_at: dt.datetime


class DecisionIn(InputModel):
    decision: Literal["approve", "reject"]
    comment: Comment | None = None


class Decision(ApiModel):
    approval_id: UUID
    status: TaskStatus
    entity_type: str
    entity_id: UUID
    entity_status: str = Field(description="The entity after the decision, e.g. pending (next step), approved.")
    next_approval_id: UUID | None = Field(default=None, description="The next step's task, if one was opened.")
