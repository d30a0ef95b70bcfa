"""Users of a tenant and the editable role -> permissions sets.

Within the caller's own rights (`hrms.auth.accounts`): no role or grant beyond what the caller
holds, admins managed by admins only, at least one active admin always. A role, status or
employee-link change, and a password reset, revoke the user's earlier tokens on their next request.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.auth import accounts, credentials, permissions, policy
from hrms.auth.passwords import hash_password, temporary_password
from hrms.db import audit_log, crud
from hrms.db.postgres import tenant_tx
from hrms.errors import Conflict, Invalid, NotFound
from hrms.pagination import Page, decode_keyset, encode_cursor
from hrms.tenancy import TENANT_ROLES, Actor, Tenant
from hrms.users.models import CreatedUser, NewUser, RolePermissions, TemporaryPassword, User, UserPatch

_COLUMNS = sql.SQL("id, email, role, employee_id, status, must_change_password, last_login_at, created_at")


def _user(row: dict[str, Any]) -> User:
    return User(user_id=row["id"], **{k: row[k] for k in User.model_fields if k != "user_id"})


def create_user(tenant: Tenant, actor: Actor, new: NewUser) -> CreatedUser:
    password = new.password or temporary_password()
    with tenant_tx(tenant, actor) as tx:
        accounts.check_may_grant_role(tx, actor, new.role)
        row = crud.insert(
            tx,
            "users",
            "user",
            {
                "email": new.email,
                "role": new.role,
                "employee_id": new.employee_id,
                "password_hash": hash_password(password),
                "must_change_password": True,
            },
        )
    return CreatedUser(**_user(row).model_dump(), temporary_password=None if new.password else password)


def list_users(
    tenant: Tenant, actor: Actor, role: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[User]:
    after = decode_keyset(cursor, str)
    with tenant_tx(tenant, actor) as tx:
        rows = tx.execute(
            sql.SQL(
                "SELECT {} FROM {} WHERE (%(role)s::text IS NULL OR role = %(role)s)"
                " AND (%(status)s::text IS NULL OR status = %(status)s)"
                " AND (%(after)s::text IS NULL OR lower(email) > %(after)s) ORDER BY lower(email) LIMIT %(limit)s"
            ).format(_COLUMNS, tx.t("users")),
            {"role": role, "status": status, "after": after[0] if after else None, "limit": limit + 1},
        ).fetchall()
    page = rows[:limit]
    more = len(rows) > limit
    return Page(
        items=[_user(r) for r in page], next_cursor=encode_cursor([page[-1]["email"].lower()]) if more else None
    )


def get_user(tenant: Tenant, actor: Actor, user_id: UUID) -> User:
    with tenant_tx(tenant, actor) as tx:
        return _user(crud.get_or_404(tx, "users", user_id, "user"))


def update_user(tenant: Tenant, actor: Actor, user_id: UUID, patch: UserPatch) -> User:
    changes = patch.model_dump(exclude_unset=True)
    with tenant_tx(tenant, actor) as tx:
        before = crud.get_or_404(tx, "users", user_id, "user", for_update=True)
        accounts.check_may_manage(actor, before)
        if changes.get("role", before["role"]) != before["role"]:
            accounts.check_may_grant_role(tx, actor, changes["role"])
        row = crud.update(tx, "users", "user", user_id, changes)
        if any(row[k] != before[k] for k in ("role", "status", "employee_id")):
            accounts.keep_an_admin(tx)
            credentials.revoke(tx, user_id)
    return _user(row)


def reset_password(tenant: Tenant, actor: Actor, user_id: UUID) -> TemporaryPassword:
    """A new temporary password (to be changed at the next sign-in); the user's earlier tokens stop working."""
    password = temporary_password()
    with tenant_tx(tenant, actor) as tx:
        before = crud.get_or_404(tx, "users", user_id, "user", for_update=True)
        accounts.check_may_manage(actor, before)
        accounts.check_may_grant_role(tx, actor, before["role"])
        tx.execute(
            sql.SQL(
                "UPDATE {} SET password_hash = %s, must_change_password = true, failed_logins = 0,"
                " locked_until = NULL, updated_at = now() WHERE id = %s"
            ).format(tx.t("users")),
            (hash_password(password), user_id),
        )
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
        before = tx.execute(
            sql.SQL("SELECT permissions FROM {} WHERE role = %s FOR UPDATE").format(tx.t("role_permissions")), (role,)
        ).fetchone()
        accounts.check_may_grant(tx, actor, set(wanted) - set(before["permissions"] if before else []))
        tx.execute(
            sql.SQL(
                "INSERT INTO {} (role, permissions) VALUES (%s, %s)"
                " ON CONFLICT (role) DO UPDATE SET permissions = EXCLUDED.permissions, updated_at = now()"
            ).format(tx.t("role_permissions")),
            (role, wanted),
        )
        audit_log.record(
            tx,
            "role.permissions_set",
            "role",
            role,
            {"permissions": sorted(before["permissions"]) if before else []},
            {"permissions": wanted},
        )
    return RolePermissions(role=role, permissions=wanted)
