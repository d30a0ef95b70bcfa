"""The tenant's stored role -> permission sets (`role_permissions`).

What a grant means is `hrms.auth.policy`. The sets are read on every request by admission
(`hrms.auth.credentials`, in the same statement as the caller's credentials), not from a cache:
a role change takes effect on the next request.
"""

from __future__ import annotations

from hrms.auth import repo
from hrms.db.postgres import TenantTx
from hrms.tenancy import Actor


def role_permissions(tx: TenantTx, role: str) -> list[str]:
    stored = repo.role_permissions(tx, role)
    return sorted(stored) if stored is not None else []


def held(tx: TenantTx, actor: Actor) -> tuple[str, ...]:
    """The caller's grants: as admitted for this request, else (an actor built by a job or a test) the
    role's stored set."""
    if actor.permissions or actor.tenant is None:
        return actor.permissions
    return tuple(role_permissions(tx, actor.role))
