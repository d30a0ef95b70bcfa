"""Forgotten passwords, part 2: the token the Notifier mails and POST /auth/reset-password (the request
is `hrms.auth.forgot`; this module writes no outbox event).

`reset_password`, 204:
- The new password meets the policy of every password (`password_policy`, 422 before anything else)
  and is not built on the account's email address (422).
- The token (`reset_tokens`) must name an active tenant, a row of its `password_reset_tokens` whose
  stored hash matches, unused, unexpired (`TOKEN_VALIDITY`), for an active user whose credentials
  epoch is still the one it was issued under. Anything else is one 400 (`INVALID_TOKEN`), whatever
  failed, and writes nothing.
- Success sets the password (no change required at the next sign-in; failures and lockout forgotten),
  spends the token, deletes the user's other unused tokens and increments the credentials epoch: every
  earlier access token and reset token of the user stops working. Audited.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from hrms.auth import credentials, password_policy, repo, reset_repo, reset_tokens
from hrms.auth.models import ResetPasswordIn
from hrms.auth.passwords import hash_password
from hrms.db import audit_log, cells
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.errors import BadRequest, Invalid
from hrms.tenancy import Actor, Tenant, checked_schema_name

TOKEN_VALIDITY = dt.timedelta(minutes=30)
INVALID_TOKEN = "This reset link is invalid or has expired; ask for a new one."  # noqa: S105 - a message


def issue_token(tx: TenantTx, user_id: UUID, event_id: UUID, epoch: int) -> str | None:
    """The Notifier's side: a fresh single-use token for the reset event `event_id` (valid
    TOKEN_VALIDITY, bound to the user's credentials `epoch`), committed with `tx`; its text goes into
    the mail only. None when the event's token was already used (nothing to mail)."""
    secret = reset_tokens.new_secret()
    selector = reset_repo.issue(tx, user_id, event_id, reset_tokens.verifier_hash(secret), epoch, TOKEN_VALIDITY)
    if selector is None:
        return None
    return reset_tokens.ResetToken(tx.tenant.tenant_id, selector, secret).text


def reset_password(body: ResetPasswordIn) -> None:
    """Set the new password with a reset token; 400 (one message) for any token that cannot be used."""
    token = reset_tokens.parse(body.token)
    if token is None:
        raise BadRequest(INVALID_TOKEN)
    with transaction(cells.cell_of(token.tenant_id)) as conn:  # the tenant's row and schema, in its cell
        registry = repo.tenant_by_id(conn, token.tenant_id)
        schema = checked_schema_name(registry.schema_name) if registry and registry.status == "active" else None
        owner = reset_repo.token_owner(conn, schema, token.selector) if schema else None
    if registry is None or schema is None or owner is None:
        raise BadRequest(INVALID_TOKEN)
    tenant = Tenant(registry.id, schema)
    user_id = owner.user_id
    with tenant_tx(tenant, Actor(str(user_id), owner.role, tenant)) as tx:
        account = repo.account(tx, user_id)  # locked, like the token below: concurrent resets queue
        row = reset_repo.token(tx, token.selector)
        found = credentials.load(tx.conn, schema, user_id)
        if account is None or not _usable(row, user_id, token.secret, found[0] if found else None):
            raise BadRequest(INVALID_TOKEN)
        _check_not_built_on_email(body.new_password, account.email)
        repo.set_password(tx, user_id, hash_password(body.new_password))
        credentials.revoke(tx, user_id)
        reset_repo.use(tx, token.selector, user_id)
        audit_log.record(tx, "auth.password_reset", "user", user_id)


def _usable(row: reset_repo.TokenRow | None, user_id: UUID, secret: bytes, state: credentials.UserState | None) -> bool:
    if row is None or state is None:
        return False
    return (
        row.user_id == user_id
        and reset_tokens.matches(row.verifier_hash, secret)
        and not row.used
        and not row.expired
        and state.active
        and state.epoch == row.credentials_epoch
    )


def _check_not_built_on_email(password: str, email: str) -> None:
    local = email.split("@")[0].lower()
    reason = password_policy.weakness(password, (email, local))
    if (len(local) >= 3 and local in password.lower()) or reason is not None:
        raise Invalid(
            "Choose a password that is not built on your email address.",
            errors=[{"field": "body.newPassword", "type": "weak", "message": reason or "too similar to the email"}],
        )
