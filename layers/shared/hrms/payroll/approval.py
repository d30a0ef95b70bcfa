"""The payroll handler of the approval engine (entity type "payroll"), registered on import."""

from __future__ import annotations

from uuid import UUID

from hrms.approvals import registry
from hrms.approvals.models import Outcome
from hrms.approvals.repo import TaskRow
from hrms.db.postgres import TenantTx
from hrms.payroll import runs


class PayrollApprovals:
    def check_duties(self, tx: TenantTx, entity_id: UUID, task: TaskRow) -> None:
        runs.check_approver(tx, entity_id, task.approver_role)

    def on_step(self, tx: TenantTx, entity_id: UUID, task: TaskRow) -> None:
        """A later step opened: the run stays a draft until the last step decides."""

    def finalise(self, tx: TenantTx, entity_id: UUID, outcome: Outcome) -> str:
        return runs.finalise(tx, entity_id, outcome)


registry.register("payroll", PayrollApprovals())
