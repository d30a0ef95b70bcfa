"""Which entity types the engine knows, and the code that finalises each.

A domain plugs in by adding its entity type to `ENTITY_TYPES` (with the module that registers
its handler) and calling `register()` at import of that module. The module is imported only
when a task of that type is decided, so a function imports only the domains it touches.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from hrms.approvals.models import Outcome
from hrms.approvals.repo import TaskRow
from hrms.db.postgres import TenantTx
from hrms.errors import NotFound


class EntityHandler(Protocol):
    """What an entity type (leave, payroll, ...) adds to the engine; `task` is the approval task row."""

    def check_duties(self, tx: TenantTx, entity_id: UUID, task: TaskRow) -> None:
        """Raise when the caller may not decide `task` for a reason of this entity type (beyond the
        engine's own rules: assignee, approve permission, never one's own subject)."""

    def on_step(self, tx: TenantTx, entity_id: UUID, task: TaskRow) -> None:
        """The entity now waits on `task` (a later step than before)."""

    def finalise(self, tx: TenantTx, entity_id: UUID, outcome: Outcome) -> str:
        """Apply the final outcome to the entity (once) and return its new status."""


@dataclass(frozen=True)
class EntityType:
    read_permission: str  # who may list every task of this type (scope "all"), or their team's
    approve_permission: str  # who may decide: role steps need it unscoped, reporting-manager steps `:team`
    module: str  # importing it registers the handler


ENTITY_TYPES: dict[str, EntityType] = {
    "leave": EntityType(read_permission="leave:read", approve_permission="leave:approve", module="hrms.leave.approval"),
    "payroll": EntityType(
        read_permission="payroll:read", approve_permission="payroll:approve", module="hrms.payroll.approval"
    ),
}

_handlers: dict[str, EntityHandler] = {}


def register(entity_type: str, handler: EntityHandler) -> None:
    if entity_type not in ENTITY_TYPES:
        raise ValueError(f"unknown entity type {entity_type!r}: add it to ENTITY_TYPES")
    _handlers[entity_type] = handler


def known(entity_type: str) -> EntityType:
    found = ENTITY_TYPES.get(entity_type)
    if found is None:
        raise NotFound("No such entity type.")
    return found


def handler_for(entity_type: str) -> EntityHandler:
    if entity_type not in _handlers:
        importlib.import_module(known(entity_type).module)
    return _handlers[entity_type]
