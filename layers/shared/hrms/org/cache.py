"""The organisation read models cached in Redis: `org:{t}:departments|designations|hierarchy` (1 h)."""

from __future__ import annotations

from hrms.cache import views
from hrms.db.postgres import TenantTx

NAMESPACE = "org"
VIEWS = ("departments", "designations", "hierarchy")


def org_key(tx: TenantTx, view: str) -> str:
    return views.key(NAMESPACE, tx.tenant.tenant_id, view)


def invalidate_org(tx: TenantTx) -> None:
    """Call in any transaction that changes departments, designations or who works where."""
    views.invalidate(tx, NAMESPACE, [org_key(tx, view) for view in VIEWS])
