"""What a write changed, and who must hear of it: the one way domains keep each other's read models
(caches) right and send events, without importing each other.

A write calls `declare(tx, Change("employee", ...))` in its transaction; every subscriber of that
entity type runs in the same transaction, so a cache epoch bump or an outbox row commits or rolls
back with the change itself. Subscribers are named here by module path and imported only when a
change of theirs happens (a function loads just the read models its writes touch), the same way
the approvals registry names its entity handlers. Each is `on_change(tx, change) -> None`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from uuid import UUID

from hrms.db.postgres import TenantTx

ORG_CACHE = "hrms.org.cache"
DASHBOARDS = "hrms.dashboards.cache"
OUTBOX = "hrms.outbox.producer"
LEAVE_ALLOCATION = "hrms.leave.allocation"
PAYSLIPS = "hrms.payslips.snapshot"

SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    "headcount": (ORG_CACHE,),  # who works in which department, and whether they still do
    "employee": (DASHBOARDS,),
    "joining": (LEAVE_ALLOCATION,),  # hires (employee_ids) and joining-date corrections (payload previous)
    "department": (ORG_CACHE, DASHBOARDS),
    "leave_type": (DASHBOARDS,),
    "leave": (DASHBOARDS,),
    "leave_balance": (DASHBOARDS,),
    "payroll_run": (DASHBOARDS,),
    # a run marked processed: its payslips are snapshotted, then payroll.processed goes to the PayslipWorker
    "payroll_processed": (PAYSLIPS, DASHBOARDS, OUTBOX),
    "approval": (DASHBOARDS, OUTBOX),
}


@dataclass(frozen=True)
class Change:
    """`entity_type` changed; `employee_ids` are the people whose own views it touches (`everyone`:
    all of them); `event` an outbox event type with its `payload` (ids only) for what happened."""

    entity_type: str
    employee_ids: tuple[UUID | None, ...] = ()
    everyone: bool = False
    event: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def declare(tx: TenantTx, change: Change) -> None:
    """Tell every subscriber of the change's entity type, in `tx`. An unknown type is a bug: KeyError."""
    for module in SUBSCRIBERS[change.entity_type]:
        _subscriber(module)(tx, change)


@cache
def _subscriber(module: str) -> Callable[[TenantTx, Change], None]:
    handler: Callable[[TenantTx, Change], None] = importlib.import_module(module).on_change
    return handler
