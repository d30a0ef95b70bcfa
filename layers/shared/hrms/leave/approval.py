"""The leave handler of the approval engine (entity type "leave"), registered on import."""

from __future__ import annotations

from uuid import UUID

from hrms.approvals import registry
from hrms.approvals.models import Outcome
from hrms.approvals.repo import TaskRow
from hrms.db.postgres import TenantTx
from hrms.leave import service


class LeaveApprovals:
    def check_duties(self, tx: TenantTx, entity_id: UUID, task: TaskRow) -> None:
        """Nothing beyond the engine's rules (the requester is the task's subject)."""

    def on_step(self, tx: TenantTx, entity_id: UUID, task: TaskRow) -> None:
        service.on_step(tx, entity_id, task.id)

    def finalise(self, tx: TenantTx, entity_id: UUID, outcome: Outcome) -> str:
        return service.finalise(tx, entity_id, outcome)


registry.register("leave", LeaveApprovals())
