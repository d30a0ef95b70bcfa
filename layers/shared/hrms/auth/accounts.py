"""Rules on user accounts that every route must respect, whichever domain it belongs to.

- Role ceiling: nobody hands out a role or a permission they do not hold (403 `grant-ceiling`);
  only admins create, promote, change or reset admins (403 `admins-only`).
- The tenant always keeps at least one active admin: an admin who is neither disabled nor linked
  to an employee who has left or will leave (409 `last-admin`), whichever route would remove the
  last one (user update, employee termination or leaving date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from hrms.auth import duties, policy, repo
from hrms.auth.permissions import held, role_permissions
from hrms.db.postgres import TenantTx
from hrms.errors import Conflict
from hrms.tenancy import Actor

ADMIN = "admin"


def check_may_grant_role(tx: TenantTx, actor: Actor, role: str) -> None:
    """The caller may give `role` to a user: admins only for admin, else the role's set within theirs."""
    if role == ADMIN and actor.role != ADMIN:
        raise duties.refuse("admins-only", "Only an admin may make someone an admin.")
    check_may_grant(tx, actor, role_permissions(tx, role))


def check_may_grant(tx: TenantTx, actor: Actor, grants: Iterable[str]) -> None:
    missing = policy.not_covered(held(tx, actor), grants)
    if missing:
        raise duties.refuse(
            "grant-ceiling", f"You cannot grant what you do not hold: {', '.join(missing)}.", missing=missing
        )


def check_may_manage(actor: Actor, target: dict[str, Any]) -> None:
    """Changing or resetting an admin's account is for admins."""
    if target["role"] == ADMIN and actor.role != ADMIN:
        raise duties.refuse("admins-only", "Only an admin may change an admin's account.")


def keep_an_admin(tx: TenantTx) -> None:
    """409 when the tenant (as the caller's transaction now sees it) has no admin left who can sign in
    today and will still be able to tomorrow and after: run after the change, before commit."""
    if repo.active_admins(tx) == 0:
        raise Conflict("A tenant keeps at least one active admin.", rule="last-admin")


def check_employee_leaving(tx: TenantTx, actor: Actor, employee_id: UUID, leaving: dt.date | None) -> None:
    """A leaving date on an employee record ends their user's access: for an admin's record, only an
    admin may set it, and never for the last admin."""
    if leaving is None:
        return
    if ADMIN in repo.active_roles_of_employee(tx, employee_id):
        if actor.role != ADMIN:
            raise duties.refuse("admins-only", "Only an admin may end an admin's employment.")
        keep_an_admin(tx)
