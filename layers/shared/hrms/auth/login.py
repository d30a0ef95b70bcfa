"""Login and password change.

Unknown tenant, unknown user, disabled user, locked account and wrong password all give the
same 401 after the same amount of hashing work. Consecutive failures lock the account for a
growing delay (30 s doubling, at most 15 min); wrong current passwords given to a password
change count toward the same lockout, and a locked account's change answers 429 (Retry-After).
A password change revokes every earlier token of the user and answers with a fresh one.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache

from hrms.auth import credentials, repo
from hrms.auth.models import AccessToken, LoginIn, LoginOut, Me, PasswordChangeIn, SessionUser, TenantRef
from hrms.auth.passwords import hash_password, verify_password
from hrms.auth.repo import AccountRow
from hrms.config import settings
from hrms.db import audit_log, cells
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.errors import Invalid, NotFound, TooManyRequests, Unauthorized
from hrms.tenancy import Actor, Tenant, checked_schema_name

LOGIN_FAILED = "Invalid tenant, email or password."
FREE_ATTEMPTS = 5
MAX_LOCK_S = 900


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def login(body: LoginIn) -> LoginOut:
    with transaction(cells.cell_of_slug(body.tenant_slug)) as conn:  # the tenant's row and schema, in its cell
        tenant = repo.tenant_by_slug(conn, body.tenant_slug, active_only=True)
        user = state = None
        if tenant is not None:
            schema = checked_schema_name(tenant.schema_name)
            user = repo.account_by_email(conn, schema, body.email)
            found = credentials.load(conn, schema, user.id) if user else None
            state = found[0] if found else None
        if tenant is None or user is None or state is None or not state.active:
            verify_password(_dummy_hash(), body.password)  # same work as a real check
            ok = False
        else:
            ok = verify_password(user.password_hash, body.password) and not _locked(user)
            tx = TenantTx(conn, Tenant(tenant.id, tenant.schema_name), Actor(str(user.id), user.role, None))
            _record_attempt(tx, user, ok, "auth.login")
    if not ok or user is None or tenant is None:
        if tenant is None:
            cells.forget(body.tenant_slug)  # perhaps a copy a move left behind: the next try reads the registry
        raise Unauthorized(LOGIN_FAILED)
    ttl = settings().jwt_ttl_s
    return LoginOut(
        access_token=_token(user, str(tenant.id), int(user.credentials_epoch)),
        expires_in=ttl,
        must_change_password=user.must_change_password,
        user=SessionUser(user_id=user.id, email=user.email, role=user.role, employee_id=user.employee_id),
    )


def _token(user: AccountRow, tenant_id: str, epoch: int) -> str:
    from hrms.auth import tokens  # jwt and cryptography: imported by Login and ChangePassword at init, not by GetMe

    return tokens.issue(str(user.id), user.role, tid=tenant_id, ttl_s=settings().jwt_ttl_s, epoch=epoch)


def _locked(user: AccountRow) -> bool:
    return (user.locked_for_s or 0) > 0


def _record_attempt(tx: TenantTx, user: AccountRow, ok: bool, action: str) -> None:
    """After a success, reset the failure count; count a failure and lock after FREE_ATTEMPTS."""
    if ok:
        repo.login_succeeded(tx, user.id)
        audit_log.record(tx, action, "user", user.id)
        return
    failures = user.failed_logins + 1
    lock_s = min(MAX_LOCK_S, 30 * 2 ** (failures - FREE_ATTEMPTS)) if failures >= FREE_ATTEMPTS else 0
    repo.login_failed(tx, user.id, failures, lock_s)
    audit_log.record(tx, f"{action}_failed", "user", user.id, None, {"failedLogins": failures})


def change_password(tenant: Tenant, actor: Actor, body: PasswordChangeIn) -> AccessToken:
    """The new password, a new credentials epoch (every earlier token dies) and a fresh token for it."""
    with tenant_tx(tenant, actor) as tx:
        user = repo.account(tx, actor.user_id)
        if user is None:
            raise NotFound("No such user.")
        if _locked(user):
            refusal: Exception = TooManyRequests(
                "Too many wrong passwords: try again later.", retry_after_s=int(user.locked_for_s or 0)
            )
        elif not verify_password(user.password_hash, body.current_password):
            _record_attempt(tx, user, False, "auth.password_change")
            refusal = Invalid(
                "The current password is not correct.",
                errors=[{"field": "body.currentPassword", "type": "mismatch", "message": "incorrect"}],
            )
        elif (
            body.new_password == body.current_password or user.email.split("@")[0].lower() in body.new_password.lower()
        ):
            refusal = Invalid(
                "Choose a new password that differs from the current one and from your email.",
                errors=[{"field": "body.newPassword", "type": "weak", "message": "too similar"}],
            )
        else:
            repo.set_password(tx, user.id, hash_password(body.new_password))
            epoch = credentials.revoke(tx, user.id)
            audit_log.record(tx, "auth.password_changed", "user", user.id)
            return AccessToken(access_token=_token(user, str(tenant.tenant_id), epoch), expires_in=settings().jwt_ttl_s)
    raise refusal  # after the commit: a wrong guess stays counted


def me(tenant: Tenant, actor: Actor) -> Me:
    with tenant_tx(tenant, actor) as tx:
        user = repo.profile(tx, actor.user_id)
        if user is None:
            raise NotFound("No such user.")
        registry = repo.tenant_ref(tx.conn, tenant.tenant_id)
    assert registry is not None  # the caller was admitted in this tenant
    return Me(**asdict(user), tenant=TenantRef(**asdict(registry)), permissions=list(actor.permissions))
