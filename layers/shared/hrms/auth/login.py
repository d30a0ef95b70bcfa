"""Login and password change.

Unknown tenant, unknown user, disabled user, locked account and wrong password all give the
same 401 after the same amount of hashing work. Consecutive failures lock the account for a
growing delay (30 s doubling, at most 15 min).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from psycopg import sql

from hrms import audit
from hrms.auth import tokens
from hrms.auth.models import LoginIn, LoginOut, Me, PasswordChangeIn, SessionUser, TenantRef
from hrms.auth.passwords import hash_password, verify_password
from hrms.auth.permissions import user_permissions
from hrms.auth.users import has_left
from hrms.config import settings
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.errors import Invalid, NotFound, Unauthorized
from hrms.tenancy import Actor, Tenant, checked_schema_name

LOGIN_FAILED = "Invalid tenant, email or password."
FREE_ATTEMPTS = 5
MAX_LOCK_S = 900


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def login(body: LoginIn) -> LoginOut:
    with transaction() as conn:
        tenant = conn.execute(
            "SELECT id, schema_name FROM public.tenants WHERE slug = %s AND status = 'active'", (body.tenant_slug,)
        ).fetchone()
        user = None
        if tenant is not None:
            schema = checked_schema_name(tenant["schema_name"])
            user = conn.execute(
                sql.SQL(
                    "SELECT id, email, role, employee_id, status, password_hash, must_change_password,"
                    " failed_logins, locked_until > now() AS locked, {} AS has_left"
                    " FROM {} u WHERE lower(email) = lower(%s) FOR UPDATE OF u"
                ).format(has_left(schema), sql.Identifier(schema, "users")),
                (body.email,),
            ).fetchone()
        if user is None or user["status"] != "active" or user["has_left"]:
            verify_password(_dummy_hash(), body.password)  # same work as a real check
            ok = False
        else:
            ok = verify_password(user["password_hash"], body.password) and not user["locked"]
            tx = TenantTx(
                conn,
                Tenant(tenant["id"], tenant["schema_name"]),  # type: ignore[index]
                Actor(str(user["id"]), user["role"], None),
            )
            _record_attempt(tx, user, ok)
    if not ok or user is None or tenant is None:
        raise Unauthorized(LOGIN_FAILED)
    ttl = settings().jwt_ttl_s
    return LoginOut(
        access_token=tokens.issue(str(user["id"]), user["role"], tid=str(tenant["id"]), ttl_s=ttl),
        expires_in=ttl,
        must_change_password=user["must_change_password"],
        user=SessionUser(user_id=user["id"], email=user["email"], role=user["role"], employee_id=user["employee_id"]),
    )


def _record_attempt(tx: TenantTx, user: dict[str, Any], ok: bool) -> None:
    if ok:
        tx.execute(
            sql.SQL("UPDATE {} SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE id = %s").format(
                tx.t("users")
            ),
            (user["id"],),
        )
        audit.record(tx, "auth.login", "user", user["id"])
        return
    failures = user["failed_logins"] + 1
    lock_s = min(MAX_LOCK_S, 30 * 2 ** (failures - FREE_ATTEMPTS)) if failures >= FREE_ATTEMPTS else 0
    tx.execute(
        sql.SQL(
            "UPDATE {} SET failed_logins = %s,"
            " locked_until = CASE WHEN %s > 0 THEN now() + make_interval(secs => %s) ELSE locked_until END"
            " WHERE id = %s"
        ).format(tx.t("users")),
        (failures, lock_s, lock_s, user["id"]),
    )
    audit.record(tx, "auth.login_failed", "user", user["id"], None, {"failedLogins": failures})


def change_password(tenant: Tenant, actor: Actor, body: PasswordChangeIn) -> None:
    with tenant_tx(tenant, actor) as tx:
        user = tx.execute(
            sql.SQL("SELECT id, email, password_hash FROM {} WHERE id = %s FOR UPDATE").format(tx.t("users")),
            (actor.user_id,),
        ).fetchone()
        if user is None:
            raise NotFound("No such user.")
        if not verify_password(user["password_hash"], body.current_password):
            raise Invalid(
                "The current password is not correct.",
                errors=[{"field": "body.currentPassword", "type": "mismatch", "message": "incorrect"}],
            )
        if (
            body.new_password == body.current_password
            or user["email"].split("@")[0].lower() in body.new_password.lower()
        ):
            raise Invalid(
                "Choose a new password that differs from the current one and from your email.",
                errors=[{"field": "body.newPassword", "type": "weak", "message": "too similar"}],
            )
        tx.execute(
            sql.SQL(
                "UPDATE {} SET password_hash = %s, must_change_password = false, updated_at = now() WHERE id = %s"
            ).format(tx.t("users")),
            (hash_password(body.new_password), user["id"]),
        )
        audit.record(tx, "auth.password_changed", "user", user["id"])


def me(tenant: Tenant, actor: Actor) -> Me:
    with tenant_tx(tenant, actor) as tx:
        user = tx.execute(
            sql.SQL(
                "SELECT id AS user_id, email, role, employee_id, status, must_change_password, last_login_at"
                " FROM {} WHERE id = %s"
            ).format(tx.t("users")),
            (actor.user_id,),
        ).fetchone()
        if user is None:
            raise NotFound("No such user.")
        registry = tx.conn.execute(
            "SELECT id AS tenant_id, slug, name FROM public.tenants WHERE id = %s", (tenant.tenant_id,)
        ).fetchone()
        permissions = user_permissions(tx, actor)
    return Me(**user, tenant=TenantRef(**registry), permissions=permissions)  # type: ignore[arg-type]
