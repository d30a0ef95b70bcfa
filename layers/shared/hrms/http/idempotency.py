"""`Idempotency-Key` for POSTs, stored in PostgreSQL (so it works while Redis is down).

A first request claims the key (row without a response), runs, then stores its response; a
replay with the same body gets the stored response; the same key with a different body is a
422; a replay while the first is still running is a 409. Keys are per caller and kept 24 h.

Secrets are never stored: a response member that carries one (a temporary password, an access
token) is kept as `null`, with a `temporaryPasswordReplayed` / `accessTokenReplayed: true` member, so a
replay tells the client that the secret went out with the first response only.

Keys live in `public.idempotency_keys` (platform POSTs) and in each tenant schema's
`idempotency_keys`. A claim deletes an expired row of its own key; every other expired row is deleted
by `purge_expired` (IdempotencyPurgeFunction, hourly; `hrms db purge-idempotency-keys`):
1. One catalog query lists the tables: public's, then those of every tenant not deleted.
2. One query per `PROBE_CHUNK` schemas reads each table's oldest `expires_at` (one descent of
   `idempotency_keys_expiry_idx`, no table scan); schemas with nothing expired cost only that.
3. The schemas with expired rows are purged oldest expiry first, `PURGE_BATCH` rows per DELETE, each
   its own transaction (`FOR UPDATE SKIP LOCKED`: a row a claim holds is left for the next run), at
   most `MAX_ROWS_PER_SCHEMA` per schema per run, so one large backlog cannot starve the others.
4. No probe or batch starts after `deadline`. What is left is still expired, so older than anything
   that expires meanwhile: the next run starts there. Reruns and overlapping runs are harmless.
A schema whose probe or batch fails is logged and counted (`failed`); the others carry on. A database
that cannot be reached (or a statement past its timeout: `DependencyDown`) fails the run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from hrms.db import cells
from hrms.db.postgres import Conn, transaction
from hrms.errors import BadRequest, Conflict, DependencyDown, Invalid, NotFound
from hrms.observability import logger
from hrms.tenancy import Actor

TTL = "24 hours"
SECRET_MEMBERS = {
    "temporaryPassword": "temporaryPasswordReplayed",
    "adminTemporaryPassword": "temporaryPasswordReplayed",
    "accessToken": "accessTokenReplayed",
}
STALE_CLAIM = "2 minutes"  # longer than any function timeout behind API Gateway (29 s)
MAX_KEY_LENGTH = 200
PROBE_CHUNK = 100  # schemas whose oldest expiry one query reads (each takes 2 AccessShareLocks until it ends)
PURGE_BATCH = 1_000  # rows per DELETE and transaction
MAX_ROWS_PER_SCHEMA = 20_000  # per schema and run
_TABLES = """
SELECT 'public' AS schema_name WHERE %(tenant)s::text IS NULL
UNION ALL
SELECT t.schema_name FROM public.tenants t
JOIN pg_namespace n ON n.nspname = t.schema_name
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'idempotency_keys'
WHERE t.status <> 'deleted' AND (%(tenant)s::text IS NULL OR t.slug = %(tenant)s OR t.id::text = %(tenant)s)
"""
_OLDEST = "SELECT {schema} AS schema_name, (SELECT min(expires_at) FROM {table}) AS oldest"
_DELETE_BATCH = (
    "DELETE FROM {table} WHERE key IN (SELECT key FROM {table} WHERE expires_at < now()"
    " ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)"
)

PurgeProgress = Callable[[int, int, str], None]  # schemas purged, schemas with expired rows, the last one


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


# Purge


@dataclass
class PurgeSummary:
    schemas: int = 0  # tables probed: public's and every live tenant's (or the one tenant's)
    expired: int = 0  # of them holding expired rows
    purged: int = 0  # rows deleted
    failed: int = 0  # schemas whose probe or purge failed (logged); the next run retries them
    interrupted: bool = False  # the deadline came first; the next run resumes

    def counts(self) -> dict[str, Any]:
        return asdict(self)


def purge_expired(
    *,
    tenant: str | None = None,
    deadline: float | None = None,
    batch: int = PURGE_BATCH,
    max_rows_per_schema: int | None = MAX_ROWS_PER_SCHEMA,
    progress: PurgeProgress | None = None,
) -> PurgeSummary:
    """Delete expired keys: public's and every live tenant's, or one tenant's (slug or id). `deadline` is a
    `time.monotonic()` value; `max_rows_per_schema=None` empties each schema of expired rows."""
    summary = PurgeSummary()
    located: dict[str, list[str]] = {}  # cell -> its schemas (hrms.db.cells: each cell purges its own tenants)
    for cell in _cells(tenant):
        try:
            with transaction(cell) as conn:
                located[cell] = [row["schema_name"] for row in conn.execute(_TABLES, {"tenant": tenant})]
        except DependencyDown:
            if cell == cells.DEFAULT:
                raise
            summary.failed += 1  # a cell down: its keys wait for the next run
            logger.warning("Idempotency key purge could not reach a cell", extra={"cell": cell})
    if tenant is not None and not any(located.values()):
        raise NotFound(f"No tenant '{tenant}'.")
    summary.schemas = sum(len(schemas) for schemas in located.values())
    expired: list[tuple[datetime, str, str]] = []
    for cell, schemas in located.items():
        for start in range(0, len(schemas), PROBE_CHUNK):
            if _past(deadline):
                summary.interrupted = True
                break
            expired += [
                (oldest, cell, schema) for oldest, schema in _probe(schemas[start : start + PROBE_CHUNK], summary, cell)
            ]
    expired.sort()
    summary.expired = len(expired)
    for done, (_, cell, schema) in enumerate(expired, 1):
        if _past(deadline):
            summary.interrupted = True
            break
        try:
            _purge_schema(schema, batch, max_rows_per_schema, deadline, summary, cell)
        except _SCHEMA_ERRORS as exc:
            summary.failed += 1
            logger.warning("Idempotency key purge failed for a schema", extra={"schema": schema, "error": repr(exc)})
        if progress:
            progress(done, len(expired), schema)
    return summary


_SCHEMA_ERRORS = (psycopg.Error, Conflict)  # one schema's trouble; DependencyDown (no database) ends the run


def _cells(tenant: str | None) -> list[str]:
    """The cells to purge: every cell, or the one holding `tenant` (slug or id)."""
    if cells.single():
        return [cells.DEFAULT]
    if tenant is None:
        return list(cells.configured())
    try:
        return [cells.cell_of(UUID(tenant))]
    except ValueError:
        return [cells.cell_of_slug(tenant)]


def _probe(schemas: Sequence[str], summary: PurgeSummary, cell: str = cells.DEFAULT) -> list[tuple[datetime, str]]:
    """(oldest expiry, schema) of the schemas holding expired keys: one query, or one per schema if it fails."""
    try:
        with transaction(cell) as conn:
            return _oldest_expired(conn, schemas)
    except _SCHEMA_ERRORS as exc:
        if len(schemas) == 1:
            summary.failed += 1
            logger.warning(
                "Idempotency key probe failed for a schema", extra={"schema": schemas[0], "error": repr(exc)}
            )
            return []
    found = []  # a table dropped meanwhile, say: the other schemas of the chunk are still purged
    for schema in schemas:
        found += _probe([schema], summary, cell)
    return found


def _oldest_expired(conn: Conn, schemas: Sequence[str]) -> list[tuple[datetime, str]]:
    probes = sql.SQL(" UNION ALL ").join(
        sql.SQL(_OLDEST).format(schema=sql.Literal(s), table=sql.Identifier(s, "idempotency_keys")) for s in schemas
    )
    query = sql.SQL("SELECT schema_name, oldest FROM ({}) probe WHERE oldest < now()").format(probes)
    return [(row["oldest"], row["schema_name"]) for row in conn.execute(query)]


def _purge_schema(
    schema: str,
    batch: int,
    max_rows: int | None,
    deadline: float | None,
    summary: PurgeSummary,
    cell: str = cells.DEFAULT,
) -> None:
    statement = sql.SQL(_DELETE_BATCH).format(table=sql.Identifier(schema, "idempotency_keys"))
    purged = 0
    while max_rows is None or purged < max_rows:
        if _past(deadline):
            summary.interrupted = True
            return
        limit = batch if max_rows is None else min(batch, max_rows - purged)
        with transaction(cell) as conn:
            deleted = conn.execute(statement, (limit,)).rowcount
        purged += deleted
        summary.purged += deleted
        if deleted < limit:
            return


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline
