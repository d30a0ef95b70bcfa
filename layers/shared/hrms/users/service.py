"""Users of a tenant and the editable role -> permissions sets.

Within the caller's own rights (`hrms.auth.accounts`): no role or grant beyond what the caller
holds, admins managed by admins only, at least one active admin always. An employee record has at
most one active user account (409 `employee-has-user`); an `employeeId` that names no employee is a
422. A role, status or employee-link change, and a password reset, revoke the user's earlier tokens
on their next request.

An account speaks for one person, and only that person learns its password, unless an admin hands
it over (`hrms.auth.accounts`). So for a caller who is not an admin, POST /users/{id}/password-reset
(which returns a temporary password) is refused, 403 `admins-only` (the owner asks for a link themself,
POST /auth/forgot-password), and PATCH /users/{id} changes `employeeId` only to the employee whose
email the account has (not to null), else 403 `account-owner`. POST /users: `hrms.users.create`.
Every check runs before the first write.
"""

from __future__ import annotations

from uuid import UUID

from hrms.auth import accounts, credentials, permissions, policy
from hrms.db import audit_log
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.errors import Conflict, Invalid, NotFound
from hrms.pagination import Page, decode_keyset, encode_cursor
from hrms.tenancy import TENANT_ROLES, Actor, Tenant
from hrms.users import links, repo
from hrms.users.models import RolePermissions, TemporaryPassword, User, UserPatch


def _get(tx: TenantTx, user_id: UUID, *, for_update: bool = False) -> User:
    user = repo.find(tx, user_id, for_update=for_update)
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users(
    tenant: Tenant, actor: Actor, role: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[User]:
    after = decode_keyset(cursor, str)
    with tenant_tx(tenant, actor) as tx:
        users = repo.list_page(tx, role, status, after[0] if after else None, limit + 1)
    page = users[:limit]
    more = len(users) > limit
    return Page(items=page, next_cursor=encode_cursor([page[-1].email.lower()]) if more else None)


def get_user(tenant: Tenant, actor: Actor, user_id: UUID) -> User:
    with tenant_tx(tenant, actor) as tx:
        return _get(tx, user_id)


def update_user(tenant: Tenant, actor: Actor, user_id: UUID, patch: UserPatch) -> User:
    changes = patch.model_dump(exclude_unset=True)
    with tenant_tx(tenant, actor) as tx:
        before = _get(tx, user_id, for_update=True)
        accounts.check_may_manage(actor, {"role": before.role})
        if changes.get("role", before.role) != before.role:
            accounts.check_may_grant_role(tx, actor, changes["role"])
        if "employee_id" in changes and changes["employee_id"] != before.employee_id:
            relinked = changes["employee_id"]
            owner = links.employee_email(tx, relinked) if relinked is not None else None
            accounts.check_link_owner(actor, before.email, owner)
        linked, status = changes.get("employee_id", before.employee_id), changes.get("status", before.status)
        if status == "active" and (linked, status) != (before.employee_id, before.status):
            links.one_account_per_employee(tx, linked, user_id)
        after = repo.update(tx, user_id, changes)
        if (after.role, after.status, after.employee_id) != (before.role, before.status, before.employee_id):
            accounts.keep_an_admin(tx)
            credentials.revoke(tx, user_id)
    return after


def reset_password(tenant: Tenant, actor: Actor, user_id: UUID) -> TemporaryPassword:
    """Admins only: a new temporary password (to be changed at the next sign-in), returned to the caller;
    the user's earlier tokens stop working."""
    from hrms.auth.passwords import hash_password, temporary_password

    accounts.check_may_reset_password(actor)
    password = temporary_password()
    with tenant_tx(tenant, actor) as tx:
        before = _get(tx, user_id, for_update=True)
        accounts.check_may_manage(actor, {"role": before.role})
        accounts.check_may_grant_role(tx, actor, before.role)
        repo.set_temporary_password(tx, user_id, hash_password(password))
        credentials.revoke(tx, user_id)
        audit_log.record(tx, "user.password_reset", "user", user_id)
    return TemporaryPassword(user_id=user_id, temporary_password=password)


def list_roles(tenant: Tenant, actor: Actor) -> list[RolePermissions]:
    with tenant_tx(tenant, actor) as tx:
        return [RolePermissions(role=role, permissions=permissions.role_permissions(tx, role)) for role in TENANT_ROLES]


def set_role_permissions(tenant: Tenant, actor: Actor, role: str, granted: list[str]) -> RolePermissions:
    if role not in TENANT_ROLES:
        raise NotFound("No such role.")
    if role == "admin":
        raise Conflict("The admin role always has every permission.")
    wanted = sorted(set(granted))
    refused = policy.problems(wanted)
    if refused:
        raise Invalid(
            "Some permissions cannot be granted.",
            errors=[{"field": "permissions", "type": "permission", "message": problem} for problem in refused],
        )
    with tenant_tx(tenant, actor) as tx:
        stored = repo.lock_role_permissions(tx, role)
        before = sorted(stored.permissions) if stored else []
        accounts.check_may_grant(tx, actor, set(wanted) - set(before))
        repo.store_role_permissions(tx, role, wanted)
        audit_log.record(tx, "role.permissions_set", "role", role, {"permissions": before}, {"permissions": wanted})
    return RolePermissions(role=role, permissions=wanted)
