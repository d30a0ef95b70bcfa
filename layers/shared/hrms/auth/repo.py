"""SQL of authentication and admission: the registry look-ups of sign-in and the authorizer, the
caller's credentials state, passwords and lockout, role permission sets and the last-admin count.

Every value is bound; tenant tables are named through `sql.Identifier(schema, table)` (or `tx.t`),
the schema having passed `checked_schema_name`. Rows come out typed: each row shape is a frozen
dataclass below, filled by psycopg's `class_row` from a query selecting exactly its fields; single
values through `scalar_row`. Admission (`user_state`) is ONE statement per request: keep it so.

The reporting-line visibility conditions the domains share are built in `hrms.auth.scope`; its two reads are here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from psycopg import sql
from psycopg.rows import scalar_row

from hrms.db import rows
from hrms.db.postgres import Conn, TenantTx

USERS = "users"


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class TenantRow:
    """A tenant of the registry (`public.tenants`): its id, schema and status."""

    id: UUID
    schema_name: str
    status: str


@dataclass(frozen=True)
class UserStateRow:
    """A user as admission sees them: account, leaving date, the tenant's time zone and status, the
    role's stored permissions."""

    user_id: UUID
    role: str
    status: str
    epoch: int
    must_change_password: bool
    employee_id: UUID | None
    date_of_leaving: dt.date | None
    timezone: str
    permissions: list[str]
    tenant_status: str | None  # None: no tenant of the registry has the schema
    frozen_retry_after_s: int | None = None  # the tenant's writes are frozen (a restore): retry after this


@dataclass(frozen=True)
class AccountRow:
    """A user's sign-in record (locked for the transaction): secrets, failures and lockout."""

    id: UUID
    email: str
    role: str
    employee_id: UUID | None
    status: str
    password_hash: str
    must_change_password: bool
    credentials_epoch: int
    failed_logins: int
    locked_for_s: int | None  # seconds of lockout left; zero or less, or None: not locked


@dataclass(frozen=True)
class UserKey:
    """Who a user is for a token: id, role and credentials epoch."""

    id: UUID
    role: str
    credentials_epoch: int


@dataclass(frozen=True)
class ProfileRow:
    """The caller's own account as `GET /me` shows it."""

    user_id: UUID
    email: str
    role: str
    employee_id: UUID | None
    status: str
    must_change_password: bool
    last_login_at: dt.datetime | None


@dataclass(frozen=True)
class TenantRefRow:
    tenant_id: UUID
    slug: str
    name: str


# ---------------------------------------------------------------- the registry


def tenant_by_slug(conn: Conn, slug: str, *, active_only: bool) -> TenantRow | None:
    """The tenant with `slug`: only an active one, or (not `active_only`) any that is not deleted."""
    condition = sql.SQL("status = 'active'") if active_only else sql.SQL("status <> 'deleted'")
    query = sql.SQL("SELECT id, schema_name, status FROM public.tenants WHERE slug = %s AND {}").format(condition)
    return rows.one(conn, TenantRow, query, (slug,))


def tenant_by_id(conn: Conn, tenant_id: UUID) -> TenantRow | None:
    query = sql.SQL("SELECT id, schema_name, status FROM public.tenants WHERE id = %s")
    return rows.one(conn, TenantRow, query, (tenant_id,))


def tenant_ref(conn: Conn, tenant_id: UUID) -> TenantRefRow | None:
    query = sql.SQL("SELECT id AS tenant_id, slug, name FROM public.tenants WHERE id = %s")
    return rows.one(conn, TenantRefRow, query, (tenant_id,))


def touch_activity(conn: Conn, tenant_id: UUID) -> bool:
    """Note the tenant's last activity, at most once a minute; True when it was noted now."""
    cursor = conn.execute(
        sql.SQL(
            "UPDATE public.tenants SET last_activity_at = now()"
            " WHERE id = %s AND (last_activity_at IS NULL OR last_activity_at < now() - interval '1 minute')"
        ),
        (tenant_id,),
    )
    return cursor.rowcount > 0


# ---------------------------------------------------------------- admission


def user_state(conn: Conn, schema: str, user_id: UUID) -> UserStateRow | None:
    """The user with their leaving date, the tenant's status and timezone, the role's permissions: one
    statement (admission runs it on every request). None for an unknown user."""
    query = sql.SQL(
        "SELECT u.id AS user_id, u.role, u.status, u.credentials_epoch AS epoch, u.must_change_password,"
        " u.employee_id, e.date_of_leaving, coalesce(tz.value #>> '{{}}', 'UTC') AS timezone,"
        " coalesce(rp.permissions, '{{}}') AS permissions,"
        " (SELECT t.status FROM public.tenants t WHERE t.schema_name = %(schema)s) AS tenant_status,"
        " (SELECT f.retry_after_s FROM public.tenant_write_freezes f JOIN public.tenants t ON t.id = f.tenant_id"
        " WHERE t.schema_name = %(schema)s) AS frozen_retry_after_s"
        " FROM {users} u"
        " LEFT JOIN {employees} e ON e.id = u.employee_id"
        " LEFT JOIN {settings} tz ON tz.key = 'timezone'"
        " LEFT JOIN {roles} rp ON rp.role = u.role"
        " WHERE u.id = %(user)s"
    ).format(
        users=sql.Identifier(schema, USERS),
        employees=sql.Identifier(schema, "employees"),
        settings=sql.Identifier(schema, "organization_settings"),
        roles=sql.Identifier(schema, "role_permissions"),
    )
    return rows.one(conn, UserStateRow, query, {"schema": schema, "user": user_id})


def platform_epoch(conn: Conn) -> int | None:
    """The platform admin's credentials epoch; None if never rotated."""
    return rows.scalar(conn, sql.SQL("SELECT epoch FROM public.platform_credentials WHERE id"))


def rotate_platform_epoch(conn: Conn) -> int:
    query = sql.SQL(
        "INSERT INTO public.platform_credentials (id, epoch) VALUES (true, 1)"
        " ON CONFLICT (id) DO UPDATE SET epoch = platform_credentials.epoch + 1, updated_at = now()"
        " RETURNING epoch"
    )
    epoch = rows.scalar(conn, query)
    assert epoch is not None
    return int(epoch)


def revoke(tx: TenantTx, user_id: UUID) -> int | None:
    """Increment the user's credentials epoch; the new epoch, None for an unknown user."""
    query = sql.SQL(
        "UPDATE {} SET credentials_epoch = credentials_epoch + 1, updated_at = now() WHERE id = %s"
        " RETURNING credentials_epoch"
    ).format(tx.t(USERS))
    return rows.scalar(tx.conn, query, (user_id,))


# ---------------------------------------------------------------- sign-in and passwords

_ACCOUNT = sql.SQL(
    "SELECT id, email, role, employee_id, status, password_hash, must_change_password, credentials_epoch,"
    " failed_logins, ceil(extract(epoch FROM locked_until - now()))::int AS locked_for_s"
    " FROM {} u WHERE {} FOR UPDATE OF u"
)


def account_by_email(conn: Conn, schema: str, email: str) -> AccountRow | None:
    """The account with `email` (any case) in the tenant `schema`, locked for the transaction."""
    query = _ACCOUNT.format(sql.Identifier(schema, USERS), sql.SQL("lower(email) = lower(%s)"))
    return rows.one(conn, AccountRow, query, (email,))


def account(tx: TenantTx, user_id: UUID | str) -> AccountRow | None:
    """The user's account, locked for the transaction."""
    return rows.one(tx.conn, AccountRow, _ACCOUNT.format(tx.t(USERS), sql.SQL("id = %s")), (user_id,))


def login_succeeded(tx: TenantTx, user_id: UUID) -> None:
    """Failures forgotten, lockout lifted, the sign-in time noted."""
    tx.execute(
        sql.SQL("UPDATE {} SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE id = %s").format(
            tx.t(USERS)
        ),
        (user_id,),
    )


def login_failed(tx: TenantTx, user_id: UUID, failures: int, lock_s: int) -> None:
    """Record `failures` consecutive failures; lock for `lock_s` seconds from now if above zero."""
    tx.execute(
        sql.SQL(
            "UPDATE {} SET failed_logins = %s,"
            " locked_until = CASE WHEN %s > 0 THEN now() + make_interval(secs => %s) ELSE locked_until END"
            " WHERE id = %s"
        ).format(tx.t(USERS)),
        (failures, lock_s, lock_s, user_id),
    )


def set_password(tx: TenantTx, user_id: UUID, password_hash: str) -> None:
    """The user's own new password: nothing to change at the next sign-in, failures and lockout forgotten."""
    tx.execute(
        sql.SQL(
            "UPDATE {} SET password_hash = %s, must_change_password = false, failed_logins = 0,"
            " locked_until = NULL, updated_at = now() WHERE id = %s"
        ).format(tx.t(USERS)),
        (password_hash, user_id),
    )


def profile(tx: TenantTx, user_id: UUID | str) -> ProfileRow | None:
    query = sql.SQL(
        "SELECT id AS user_id, email, role, employee_id, status, must_change_password, last_login_at"
        " FROM {} WHERE id = %s"
    ).format(tx.t(USERS))
    return rows.one(tx.conn, ProfileRow, query, (user_id,))


def user_by_email(conn: Conn, schema: str, email: str) -> UserKey | None:
    """The user with `email` (any case) in the tenant `schema`."""
    query = sql.SQL("SELECT id, role, credentials_epoch FROM {} WHERE lower(email) = lower(%s)").format(
        sql.Identifier(schema, USERS)
    )
    return rows.one(conn, UserKey, query, (email,))


# ---------------------------------------------------------------- roles and admins


def role_permissions(tx: TenantTx, role: str) -> list[str] | None:
    """The role's stored permission set; None if never stored."""
    query = sql.SQL("SELECT permissions FROM {} WHERE role = %s").format(tx.t("role_permissions"))
    return rows.scalar(tx.conn, query, (role,))


def active_admins(tx: TenantTx) -> int:
    """Active admins not linked to an employee with a leaving date (past or future)."""
    query = sql.SQL(
        "SELECT count(*) FROM {users} u LEFT JOIN {employees} e ON e.id = u.employee_id"
        " WHERE u.role = 'admin' AND u.status = 'active' AND e.date_of_leaving IS NULL"
    ).format(users=tx.t(USERS), employees=tx.t("employees"))
    return int(rows.scalar(tx.conn, query) or 0)


def active_roles_of_employee(tx: TenantTx, employee_id: UUID) -> list[str]:
    """The roles of the active users linked to the employee record."""
    query = sql.SQL("SELECT role FROM {} WHERE employee_id = %s AND status = 'active'").format(tx.t(USERS))
    with tx.conn.cursor(row_factory=scalar_row) as cursor:
        return [str(role) for role in cursor.execute(query, (employee_id,)).fetchall()]


# ---------------------------------------------------------------- reporting-line visibility (`hrms.auth.scope`)


def employee_of_user(tx: TenantTx, user_id: UUID) -> UUID | None:
    """The employee record linked to the user account, if any."""
    query = sql.SQL("SELECT employee_id FROM {} WHERE id = %s").format(tx.t(USERS))
    return rows.scalar(tx.conn, query, (user_id,))


def employee_ids(tx: TenantTx, condition: sql.Composable, params: Mapping[str, object]) -> list[UUID]:
    """The ids of the employees (aliased `e`) meeting `condition`."""
    query = sql.SQL("SELECT e.id FROM {} e WHERE {}").format(tx.t("employees"), condition)
    with tx.conn.cursor(row_factory=scalar_row) as cursor:
        return cursor.execute(query, params).fetchall()
