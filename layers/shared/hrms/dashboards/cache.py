"""The dashboard caches: `dashboard:{t}:executive` and `dashboard:{t}:employee:<id>` (15 min), epoch-stamped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar
from uuid import UUID

from hrms.cache import views
from hrms.db.changes import Change
from hrms.db.postgres import TenantTx

T = TypeVar("T")

NAMESPACE = "dashboards"


def executive_key(tx: TenantTx) -> str:
    return views.key("dashboard", tx.tenant.tenant_id, "executive")


def employee_key(tx: TenantTx, employee_id: UUID | str) -> str:
    return views.key("dashboard", tx.tenant.tenant_id, "employee", employee_id)


def cached(tx: TenantTx, cache_key: str, compute: Callable[[], T]) -> T:
    """A dashboard (plain JSON data) from Redis if current, else computed in `tx` and stored."""
    return views.cached(tx, NAMESPACE, cache_key, views.TTL_DASHBOARD_S, compute)


def invalidate_dashboards(tx: TenantTx, employee_ids: Iterable[UUID | None] = (), *, everyone: bool = False) -> None:
    """Drop the executive dashboard and the employees' (all of them if `everyone`), bumping the epoch in `tx`."""
    keys = [executive_key(tx), *(employee_key(tx, e) for e in dict.fromkeys(employee_ids) if e is not None)]
    views.invalidate(tx, NAMESPACE, keys, pattern=employee_key(tx, "*") if everyone else None)


def on_change(tx: TenantTx, change: Change) -> None:
    """Subscriber of `hrms.db.changes`: the dashboards a change shows in."""
    invalidate_dashboards(tx, change.employee_ids, everyone=change.everyone)
