"""Forgotten passwords, part 1: POST /auth/forgot-password (the reset is `hrms.auth.reset`).

`forgot_password`: always 202 with the same body, whatever the tenant, the account or the limits:
- Only an active user of an active tenant gets anything: the request is counted
  (`password_reset_requests`), audited and a `password.reset_requested` {userId} event is written in
  the same transaction (`send_link`). The Notifier makes the token and mails the link
  (`hrms.auth.reset.issue_token`).
- Limits, per rolling hour: `ACCOUNT_LIMIT` accepted requests per account and `TENANT_LIMIT` per
  tenant; a request over either is answered the same and does nothing (no event, no row). Concurrent
  requests for one account queue on its row lock, so its limit is exact.
- Same timing: every answer takes at least `RESPONSE_FLOOR_S` (the work is padded to it), so whether an
  account exists, is over its limit or the tenant is unknown cannot be told from the response time
  (the work itself, a mail included, takes a few tens of ms, and the mail leaves asynchronously).
"""

from __future__ import annotations

import datetime as dt
import time
from uuid import UUID

from hrms.auth import credentials, repo, reset_repo
from hrms.auth.models import ForgotPasswordIn, ResetRequested
from hrms.db import audit_log, cells
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.observability import logger
from hrms.outbox import PASSWORD_RESET_REQUESTED, emit
from hrms.tenancy import Actor, Tenant, checked_schema_name

ACCOUNT_LIMIT = 3  # accepted requests per account per WINDOW
TENANT_LIMIT = 100  # accepted requests per tenant per WINDOW
WINDOW = dt.timedelta(hours=1)
RESPONSE_FLOOR_S = 0.4


def forgot_password(body: ForgotPasswordIn) -> ResetRequested:
    """Accept a reset request: 202 and the same body for any account, after the same time."""
    started = time.monotonic()
    try:
        _request_reset(body.tenant_slug, body.email)
    finally:
        time.sleep(max(0.0, started + RESPONSE_FLOOR_S - time.monotonic()))
    return ResetRequested()


def _request_reset(slug: str, email: str) -> None:
    with transaction(cells.cell_of_slug(slug)) as conn:  # the tenant's row and schema, in its cell
        registry = repo.tenant_by_slug(conn, slug, active_only=True)
        key = repo.user_by_email(conn, checked_schema_name(registry.schema_name), email) if registry else None
    if registry is None or key is None:
        return
    tenant = Tenant(registry.id, registry.schema_name)
    with tenant_tx(tenant, Actor(str(key.id), key.role, tenant)) as tx:
        account = repo.account(tx, key.id)  # locked: this account's concurrent requests queue here
        found = credentials.load(tx.conn, tenant.schema_name, key.id)
        if account is None or found is None or not found[0].active:
            return
        recent = reset_repo.recent_requests(tx, key.id, WINDOW)
        if recent.account >= ACCOUNT_LIMIT or recent.tenant >= TENANT_LIMIT:
            limit = "account" if recent.account >= ACCOUNT_LIMIT else "tenant"
            logger.warning(
                "Password reset request over its limit; nothing sent",
                extra={"tenant_id": str(tenant.tenant_id), "limit": limit},
            )
            return
        reset_repo.record_request(tx, key.id)
        send_link(tx, key.id)


def send_link(tx: TenantTx, user_id: UUID) -> None:
    """Have the user mailed a single-use link to choose their password, in `tx` (nothing is sent if it
    rolls back): the `password.reset_requested` event, from which the Notifier makes the token and mails
    the link, and its audit row. Also how an account created by a non-admin reaches its owner
    (`hrms.users.create`); only POST /auth/forgot-password counts toward the limits above."""
    emit(tx, PASSWORD_RESET_REQUESTED, {"userId": user_id})
    audit_log.record(tx, "auth.password_reset_requested", "user", user_id)
