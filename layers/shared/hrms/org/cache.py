"""The organisation read models cached in Redis: `org:{t}:departments|designations|hierarchy` (1 h)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hrms.cache import store, views
from hrms.db.changes import Change
from hrms.db.postgres import TenantTx

T = TypeVar("T")

NAMESPACE = "org"
VIEWS = ("departments", "designations", "hierarchy")


def org_key(tx: TenantTx, view: str) -> str:
    return views.key(NAMESPACE, tx.tenant.tenant_id, view)


def cached_view(tx: TenantTx, view: str, compute: Callable[[], T]) -> T:
    """One org view (plain JSON data) from Redis if current, else computed in `tx` and stored for 1 h."""
    return views.cached(tx, NAMESPACE, org_key(tx, view), views.TTL_ORG_S, compute)


def invalidate_org(tx: TenantTx) -> None:
    """Call in any transaction that changes departments, designations or who works where."""
    views.invalidate(tx, NAMESPACE, [org_key(tx, view) for view in VIEWS])


def drop_cached(tx: TenantTx) -> None:
    """Drop the tenant's cached org views without bumping the epoch, so the next read recomputes them
    (the scheduled warm-up uses this to refresh values and TTLs)."""
    store.delete([org_key(tx, view) for view in VIEWS])


def on_change(tx: TenantTx, change: Change) -> None:
    """Subscriber of `hrms.db.changes`: departments, designations and the hierarchy are recomputed."""
    invalidate_org(tx)
