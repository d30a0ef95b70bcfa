"""`Idempotency-Key` for POSTs, stored in PostgreSQL (so it works while Redis is down).

A first request claims the key (row without a response), runs, then stores its response; a
replay with the same body gets the stored response; the same key with a different body is a
422; a replay while the first is still running is a 409. Keys are per caller and kept 24 h.

Secrets are never stored: a response member that carries one (a temporary password, an access
token) is kept as `null`, with a `temporaryPasswordReplayed` / `accessTokenReplayed: true` member, so a
replay tells the client that the secret went out with the first response only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from hrms.db.postgres import transaction
from hrms.errors import BadRequest, Conflict, Invalid
from hrms.tenancy import Actor

TTL = "24 hours"
SECRET_MEMBERS = {
    "temporaryPassword": "temporaryPasswordReplayed",
    "adminTemporaryPassword": "temporaryPasswordReplayed",
    "accessToken": "accessTokenReplayed",
}
STALE_CLAIM = "2 minutes"  # longer than any function timeout behind API Gateway (29 s)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Claim:
    table: sql.Composable
    key: str


def _table(actor: Actor) -> sql.Composable:
    if actor.tenant is None:
        return sql.Identifier("public", "idempotency_keys")
    return sql.Identifier(actor.tenant.schema_name, "idempotency_keys")


def request_hash(operation: str, body: str | None) -> str:
    return hashlib.sha256(f"{operation}\n{body or ''}".encode()).hexdigest()


def claim(actor: Actor, raw_key: str, operation: str, body_hash: str) -> Claim | dict[str, Any]:
    """Claim the key for this request, or return the stored response of the first one."""
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH or not raw_key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.")
    table, key = _table(actor), f"{actor.user_id}:{raw_key}"
    with transaction() as conn:
        conn.execute(sql.SQL("DELETE FROM {} WHERE key = %s AND expires_at < now()").format(table), (key,))
        inserted = conn.execute(
            sql.SQL(
                "INSERT INTO {} (key, operation, request_hash, expires_at) VALUES (%s, %s, %s, now() + %s::interval)"
                " ON CONFLICT (key) DO NOTHING RETURNING key"
            ).format(table),
            (key, operation, body_hash, TTL),
        ).fetchone()
        if inserted:
            return Claim(table, key)
        row = conn.execute(
            sql.SQL(
                "SELECT request_hash, status_code, response, created_at < now() - %s::interval AS stale"
                " FROM {} WHERE key = %s FOR UPDATE"
            ).format(table),
            (STALE_CLAIM, key),
        ).fetchone()
        assert row is not None
        if row["request_hash"] != body_hash:
            raise Invalid("This Idempotency-Key was used with a different request.")
        if row["status_code"] is not None:
            return dict(row["response"])
        if not row["stale"]:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        conn.execute(sql.SQL("UPDATE {} SET created_at = now() WHERE key = %s").format(table), (key,))
        return Claim(table, key)


def complete(claimed: Claim, response: dict[str, Any]) -> None:
    """Keep a final response for replays; a 5xx releases the key so the client can retry."""
    with transaction() as conn:
        if int(response.get("statusCode", 500)) >= 500:
            conn.execute(sql.SQL("DELETE FROM {} WHERE key = %s").format(claimed.table), (claimed.key,))
            return
        conn.execute(
            sql.SQL("UPDATE {} SET status_code = %s, response = %s WHERE key = %s").format(claimed.table),
            (
                response["statusCode"],
                Jsonb(_without_secrets(json.loads(json.dumps(response, default=str)))),
                claimed.key,
            ),
        )


def release(claimed: Claim) -> None:
    with transaction() as conn:
        conn.execute(sql.SQL("DELETE FROM {} WHERE key = %s").format(claimed.table), (claimed.key,))


def _without_secrets(response: dict[str, Any]) -> dict[str, Any]:
    """The response as stored for replays: secret members of a JSON object body nulled and flagged."""
    try:
        body = json.loads(response.get("body") or "null")
    except ValueError:
        return response
    if not isinstance(body, dict) or not any(body.get(member) is not None for member in SECRET_MEMBERS):
        return response
    for member, flag in SECRET_MEMBERS.items():
        if body.get(member) is not None:
            body[member] = None
            body[flag] = True
    return {**response, "body": json.dumps(body)}
