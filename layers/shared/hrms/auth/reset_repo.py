"""SQL of forgotten passwords: the accepted requests the rate limits count, and the reset tokens
(tenant tables `password_reset_requests` and `password_reset_tokens`, migration 0010)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from psycopg import sql

from hrms.db import rows
from hrms.db.postgres import Conn, TenantTx

REQUESTS = "password_reset_requests"
TOKENS = "password_reset_tokens"
KEEP_REQUESTS = dt.timedelta(days=1)  # older requests count toward no limit: purged as new ones come
KEEP_TOKENS = dt.timedelta(days=1)  # expired or used tokens are purged this long after they expired


@dataclass(frozen=True)
class RecentRequests:
    account: int  # of this user within the window
    tenant: int  # of the whole tenant within the window


@dataclass(frozen=True)
class TokenRow:
    id: UUID
    user_id: UUID
    verifier_hash: bytes
    credentials_epoch: int
    expired: bool
    used: bool


def recent_requests(tx: TenantTx, user_id: UUID, window: dt.timedelta) -> RecentRequests:
    query = sql.SQL(
        "SELECT count(*) FILTER (WHERE user_id = %(user)s) AS account, count(*) AS tenant"
        " FROM {} WHERE requested_at > now() - %(window)s"
    ).format(tx.t(REQUESTS))
    found = rows.one(tx, RecentRequests, query, {"user": user_id, "window": window})
    assert found is not None  # an aggregate always has a row
    return found


def record_request(tx: TenantTx, user_id: UUID) -> None:
    """Count one accepted request, and forget those too old to count toward any limit."""
    tx.execute(sql.SQL("INSERT INTO {} (user_id) VALUES (%s)").format(tx.t(REQUESTS)), (user_id,))
    tx.execute(sql.SQL("DELETE FROM {} WHERE requested_at < now() - %s").format(tx.t(REQUESTS)), (KEEP_REQUESTS,))


def issue(
    tx: TenantTx, user_id: UUID, event_id: UUID, verifier_hash: bytes, epoch: int, valid_for: dt.timedelta
) -> UUID | None:
    """The token of one reset event: created, or given a new secret and validity if it exists unused (a
    redelivered event mails a fresh link; the earlier one stops working). None if it was used already."""
    query = sql.SQL(
        "INSERT INTO {t} (user_id, event_id, verifier_hash, credentials_epoch, expires_at)"
        " VALUES (%(user)s, %(event)s, %(hash)s, %(epoch)s, now() + %(valid)s)"
        " ON CONFLICT (event_id) DO UPDATE SET verifier_hash = EXCLUDED.verifier_hash,"
        " credentials_epoch = EXCLUDED.credentials_epoch, expires_at = EXCLUDED.expires_at"
        " WHERE {t}.used_at IS NULL RETURNING id"
    ).format(t=tx.t(TOKENS))
    params = {"user": user_id, "event": event_id, "hash": verifier_hash, "epoch": epoch, "valid": valid_for}
    found = rows.scalar(tx, query, params)
    tx.execute(
        sql.SQL("DELETE FROM {} WHERE user_id = %s AND expires_at < now() - %s").format(tx.t(TOKENS)),
        (user_id, KEEP_TOKENS),
    )
    return found


@dataclass(frozen=True)
class TokenOwner:
    user_id: UUID
    role: str


def token_owner(conn: Conn, schema: str, token_id: UUID) -> TokenOwner | None:
    """Whose token `token_id` is (no lock: the reset locks and checks it again in its own transaction)."""
    query = sql.SQL("SELECT t.user_id, u.role FROM {} t JOIN {} u ON u.id = t.user_id WHERE t.id = %s").format(
        sql.Identifier(schema, TOKENS), sql.Identifier(schema, "users")
    )
    return rows.one(conn, TokenOwner, query, (token_id,))


def token(tx: TenantTx, token_id: UUID) -> TokenRow | None:
    """The token row, locked: concurrent resets with one token queue here, and only the first finds it unused."""
    query = sql.SQL(
        "SELECT id, user_id, verifier_hash, credentials_epoch, expires_at <= now() AS expired,"
        " used_at IS NOT NULL AS used FROM {} WHERE id = %s FOR UPDATE"
    ).format(tx.t(TOKENS))
    return rows.one(tx, TokenRow, query, (token_id,))


def use(tx: TenantTx, token_id: UUID, user_id: UUID) -> None:
    """The token is spent; the user's other unused tokens go too (the new credentials epoch revokes them anyway)."""
    tx.execute(sql.SQL("UPDATE {} SET used_at = now() WHERE id = %s").format(tx.t(TOKENS)), (token_id,))
    tx.execute(
        sql.SQL("DELETE FROM {} WHERE user_id = %s AND id <> %s AND used_at IS NULL").format(tx.t(TOKENS)),
        (user_id, token_id),
    )
