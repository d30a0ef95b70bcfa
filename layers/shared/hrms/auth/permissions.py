"""Role -> permission sets stored per tenant, cached in Redis (epoch-checked) per role and per user.

A permission is `area:action` (all records) or `area:action:team` / `area:action:self` (the
caller's reporting line / the caller only). `*` grants everything.
"""

from __future__ import annotations

from typing import Literal

from psycopg import sql

from hrms.cache import views
from hrms.db.postgres import TenantTx
from hrms.tenancy import Actor

Scope = Literal["all", "team", "self"]
NAMESPACE = "perms"


def role_permissions(tx: TenantTx, role: str) -> list[str]:
    def compute() -> list[str]:
        row = tx.execute(
            sql.SQL("SELECT permissions FROM {} WHERE role = %s").format(tx.t("role_permissions")), (role,)
        ).fetchone()
        return sorted(row["permissions"]) if row else []

    return views.cached(
        tx, NAMESPACE, views.key(NAMESPACE, tx.tenant.tenant_id, "role", role), views.TTL_PERMS_S, compute
    )


def user_permissions(tx: TenantTx, actor: Actor) -> list[str]:
    """The caller's effective permissions (today: their role's set)."""
    return views.cached(
        tx,
        NAMESPACE,
        views.key(NAMESPACE, tx.tenant.tenant_id, "user", actor.user_id),
        views.TTL_PERMS_S,
        lambda: role_permissions(tx, actor.role),
    )


def scope_of(permissions: list[str], permission: str) -> Scope | None:
    """The widest scope `permissions` grant for `permission`, or None."""
    granted = set(permissions)
    if "*" in granted or permission in granted:
        return "all"
    if f"{permission}:team" in granted:
        return "team"
    if f"{permission}:self" in granted:
        return "self"
    return None


def invalidate(tx: TenantTx) -> None:
    """After a role's permissions change: every cached role and user set of the tenant goes."""
    views.invalidate(tx, NAMESPACE, pattern=views.key(NAMESPACE, tx.tenant.tenant_id, "*"))
