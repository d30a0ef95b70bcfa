"""Login and password change.

Unknown tenant, unknown user, disabled user, locked account and wrong password all give the
same 401 after the same amount of hashing work. Consecutive failures lock the account for a
growing delay (30 s doubling, at most 15 min); wrong current passwords given to a password
change count toward the same lockout, and a locked account's change answers 429 (Retry-After).
A password change revokes every earlier token of the user and answers with a fresh one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from psycopg import sql

from hrms.auth import credentials, tokens
from hrms.auth.models import AccessToken, LoginIn, LoginOut, Me, PasswordChangeIn, SessionUser, TenantRef
from hrms.auth.passwords import hash_password, verify_password
from hrms.config import settings
from hrms.db import audit_log
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.errors import Invalid, NotFound, TooManyRequests, Unauthorized
from hrms.tenancy import Actor, Tenant, checked_schema_name

LOGIN_FAILED = "Invalid tenant, email or password."
FREE_ATTEMPTS = 5
MAX_LOCK_S = 900
_USER = sql.SQL(
    "SELECT id, email, role, employee_id, status, password_hash, must_change_password, credentials_epoch,"
    " failed_logins, ceil(extract(epoch FROM locked_until - now()))::int AS locked_for_s"
    " FROM {} u WHERE {} FOR UPDATE OF u"
)


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def login(body: LoginIn) -> LoginOut:
    with transaction() as conn:
        tenant = conn.execute(
            "SELECT id, schema_name FROM public.tenants WHERE slug = %s AND status = 'active'", (body.tenant_slug,)
        ).fetchone()
        user = state = None
        if tenant is not None:
            schema = checked_schema_name(tenant["schema_name"])
            user = conn.execute(
                _USER.format(sql.Identifier(schema, "users"), sql.SQL("lower(email) = lower(%s)")), (body.email,)
            ).fetchone()
            found = credentials.load(conn, schema, user["id"]) if user else None
            state = found[0] if found else None
        if user is None or state is None or not state.active:
            verify_password(_dummy_hash(), body.password)  # same work as a real check
            ok = False
        else:
            ok = verify_password(user["password_hash"], body.password) and not _locked(user)
            tx = TenantTx(
                conn,
                Tenant(tenant["id"], tenant["schema_name"]),  # type: ignore[index]
                Actor(str(user["id"]), user["role"], None),
            )
            _record_attempt(tx, user, ok, "auth.login")
    if not ok or user is None or tenant is None:
        raise Unauthorized(LOGIN_FAILED)
    ttl = settings().jwt_ttl_s
    return LoginOut(
        access_token=_token(user, str(tenant["id"]), int(user["credentials_epoch"])),
        expires_in=ttl,
        must_change_password=user["must_change_password"],
        user=SessionUser(user_id=user["id"], email=user["email"], role=user["role"], employee_id=user["employee_id"]),
    )


def _token(user: dict[str, Any], tenant_id: str, epoch: int) -> str:
    return tokens.issue(str(user["id"]), user["role"], tid=tenant_id, ttl_s=settings().jwt_ttl_s, epoch=epoch)


def _locked(user: dict[str, Any]) -> bool:
    return (user["locked_for_s"] or 0) > 0


def _record_attempt(tx: TenantTx, user: dict[str, Any], ok: bool, action: str) -> None:
    """After a success, reset the failure count; count a failure and lock after FREE_ATTEMPTS."""
    if ok:
        tx.execute(
            sql.SQL("UPDATE {} SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE id = %s").format(
                tx.t("users")
            ),
            (user["id"],),
        )
        audit_log.record(tx, action, "user", user["id"])
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
    audit_log.record(tx, f"{action}_failed", "user", user["id"], None, {"failedLogins": failures})


def change_password(tenant: Tenant, actor: Actor, body: PasswordChangeIn) -> AccessToken:
    """The new password, a new credentials epoch (every earlier token dies) and a fresh token for it."""
    with tenant_tx(tenant, actor) as tx:
        user = tx.execute(_USER.format(tx.t("users"), sql.SQL("id = %s")), (actor.user_id,)).fetchone()
        if user is None:
            raise NotFound("No such user.")
        if _locked(user):
            refusal: Exception = TooManyRequests(
                "Too many wrong passwords: try again later.", retry_after_s=int(user["locked_for_s"])
            )
        elif not verify_password(user["password_hash"], body.current_password):
            _record_attempt(tx, user, False, "auth.password_change")
            refusal = Invalid(
                "The current password is not correct.",
                errors=[{"field": "body.currentPassword", "type": "mismatch", "message": "incorrect"}],
            )
        elif (
            body.new_password == body.current_password
            or user["email"].split("@")[0].lower() in body.new_password.lower()
        ):
            refusal = Invalid(
                "Choose a new password that differs from the current one and from your email.",
                errors=[{"field": "body.newPassword", "type": "weak", "message": "too similar"}],
            )
        else:
            tx.execute(
                sql.SQL(
                    "UPDATE {} SET password_hash = %s, must_change_password = false, failed_logins = 0,"
                    " locked_until = NULL, updated_at = now() WHERE id = %s"
                ).format(tx.t("users")),
                (hash_password(body.new_password), user["id"]),
            )
            epoch = credentials.revoke(tx, user["id"])
            audit_log.record(tx, "auth.password_changed", "user", user["id"])
            return AccessToken(access_token=_token(user, str(tenant.tenant_id), epoch), expires_in=settings().jwt_ttl_s)
    raise refusal  # after the commit: a wrong guess stays counted


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
    return Me(**user, tenant=TenantRef(**registry), permissions=list(actor.permissions))  # type: ignore[arg-type]
