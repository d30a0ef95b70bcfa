"""SQL of the users domain; every table through `tx.t(...)`, every value bound.

Rows come out typed: reads use a `kwargs_row` factory into the pydantic model; the audited generic
writes of `hrms.db.crud` return `UserRow` (the shown columns: never the password hash), turned into
a `User` by `_user`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import kwargs_row, scalar_row

from hrms.db import crud
from hrms.db.postgres import TenantTx
from hrms.users.models import RolePermissions, User

ENTITY = "user"
TABLE = "users"
ROLES = "role_permissions"
_COLUMNS = sql.SQL("id AS user_id, email, role, employee_id, status, must_change_password, last_login_at, created_at")


@dataclass(frozen=True)
class UserRow:
    """The `users` columns a `User` shows (the audited writes of `hrms.db.crud` return this shape)."""

    id: UUID
    email: str
    role: str
    employee_id: UUID | None
    status: str
    must_change_password: bool
    last_login_at: dt.datetime | None
    created_at: dt.datetime


def _user(row: UserRow) -> User:
    return User(user_id=row.id, **{k: getattr(row, k) for k in User.model_fields if k != "user_id"})


def find(tx: TenantTx, user_id: UUID, *, for_update: bool = False) -> User | None:
    """The user, locked for the rest of the transaction with `for_update`."""
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(_COLUMNS, tx.t(TABLE))
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    with tx.conn.cursor(row_factory=kwargs_row(User)) as cur:
        return cur.execute(query, (user_id,)).fetchone()


def list_page(tx: TenantTx, role: str | None, status: str | None, after: str | None, limit: int) -> list[User]:
    """Up to `limit` users with the given role and status, ordered by lower(email), strictly after `after`."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE (%(role)s::text IS NULL OR role = %(role)s)"
        " AND (%(status)s::text IS NULL OR status = %(status)s)"
        " AND (%(after)s::text IS NULL OR lower(email) > %(after)s) ORDER BY lower(email) LIMIT %(limit)s"
    ).format(_COLUMNS, tx.t(TABLE))
    with tx.conn.cursor(row_factory=kwargs_row(User)) as cur:
        return cur.execute(query, {"role": role, "status": status, "after": after, "limit": limit}).fetchall()


def insert(tx: TenantTx, values: Mapping[str, Any]) -> User:
    """Audited (`user.created`)."""
    return _user(crud.insert(tx, TABLE, ENTITY, values, UserRow))


def update(tx: TenantTx, user_id: UUID, changes: Mapping[str, Any]) -> User:
    """Audited (`user.updated`, only the columns that changed)."""
    return _user(crud.update(tx, TABLE, ENTITY, user_id, changes, UserRow))


def other_active_user_of(tx: TenantTx, employee_id: UUID, user_id: UUID | None) -> UUID | None:
    """Another active user linked to the employee record, if any. Locks the employee row first, so two
    concurrent links of one employee queue there (None too when the employee does not exist)."""
    if lock_employee_email(tx, employee_id) is None:  # the email is NOT NULL: None means no such employee
        return None
    query = sql.SQL(
        "SELECT id FROM {} WHERE employee_id = %s AND status = 'active'"
        " AND (%s::uuid IS NULL OR id <> %s::uuid) ORDER BY id LIMIT 1"
    ).format(tx.t(TABLE))
    with tx.conn.cursor(row_factory=scalar_row) as cur:
        found = cur.execute(query, (employee_id, user_id, user_id)).fetchone()
    return found if isinstance(found, UUID) else None


def lock_employee_email(tx: TenantTx, employee_id: UUID) -> str | None:
    """The email of the employee record, None when there is none; its row is locked for the rest of the
    transaction, so the email an account is checked against cannot change before the account is written."""
    query = sql.SQL("SELECT email FROM {} WHERE id = %s FOR UPDATE").format(tx.t("employees"))
    with tx.conn.cursor(row_factory=scalar_row) as cur:
        found = cur.execute(query, (employee_id,)).fetchone()
    return found if isinstance(found, str) else None


def set_temporary_password(tx: TenantTx, user_id: UUID, password_hash: str) -> None:
    """A password to change at the next sign-in; failed sign-ins and any lockout forgotten. Not audited here."""
    tx.execute(
        sql.SQL(
            "UPDATE {} SET password_hash = %s, must_change_password = true, failed_logins = 0,"
            " locked_until = NULL, updated_at = now() WHERE id = %s"
        ).format(tx.t(TABLE)),
        (password_hash, user_id),
    )


def lock_role_permissions(tx: TenantTx, role: str) -> RolePermissions | None:
    """The role's stored permission set, locked for the rest of the transaction; None if never stored."""
    query = sql.SQL("SELECT role, permissions FROM {} WHERE role = %s FOR UPDATE").format(tx.t(ROLES))
    with tx.conn.cursor(row_factory=kwargs_row(RolePermissions)) as cur:
        return cur.execute(query, (role,)).fetchone()


def store_role_permissions(tx: TenantTx, role: str, permissions: list[str]) -> None:
    """Not audited here."""
    tx.execute(
        sql.SQL(
            "INSERT INTO {} (role, permissions) VALUES (%s, %s)"
            " ON CONFLICT (role) DO UPDATE SET permissions = EXCLUDED.permissions, updated_at = now()"
        ).format(tx.t(ROLES)),
        (role, permissions),
    )
