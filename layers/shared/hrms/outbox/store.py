"""SQL of the outbox: the tenant's `outbox` table and the `public.outbox_pending` marker.

The marker protocol, which keeps the sweep from dropping a tenant while an event is on its way:
- An emitting transaction makes sure the marker exists before it commits, and holds it: either it
  inserts the marker itself (invisible to the sweep until the commit), or it takes `FOR KEY SHARE` on
  the existing one (emitters do not block each other). If a sweep deleted the marker meanwhile, the
  emitter inserts a new one.
- The sweep removes a marker only after locking it `FOR UPDATE SKIP LOCKED` (so no emitter holds it)
  and then, in a later statement (a fresh READ COMMITTED snapshot that sees every emitter that has
  committed), finding no unpublished row. A marker it cannot lock is simply kept for the next run.
So a committed unpublished row always has its tenant's marker.

Rows are delivered under `FOR UPDATE SKIP LOCKED`, by the after-commit publish and the sweep alike:
two publishers never send the same row at the same time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from hrms.db.postgres import Conn, TenantTx
from hrms.errors import Conflict

TABLE = "outbox"
PENDING = sql.Identifier("public", "outbox_pending")
_COLUMNS = sql.SQL("id, event_id, event_type, payload, created_at, attempts")
_MARKER_TRIES = 5


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: UUID
    event_type: str
    payload: dict[str, Any]
    created_at: dt.datetime
    attempts: int


@dataclass(frozen=True)
class PendingTenant:
    tenant_id: UUID
    schema_name: str
    since: dt.datetime


def insert(tx: TenantTx, event_type: str, payload: dict[str, Any]) -> int:
    row = tx.execute(
        sql.SQL("INSERT INTO {} (event_type, payload) VALUES (%s, %s) RETURNING id").format(tx.t(TABLE)),
        (event_type, Jsonb(payload)),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def hold_marker(tx: TenantTx) -> None:
    """Make sure the tenant is listed in `public.outbox_pending` when `tx` commits (see the module notes)."""
    tenant_id = tx.tenant.tenant_id
    for _ in range(_MARKER_TRIES):
        held = tx.execute(
            sql.SQL("SELECT 1 FROM {} WHERE tenant_id = %s FOR KEY SHARE").format(PENDING), (tenant_id,)
        ).fetchone()
        if held is not None:
            return
        inserted = tx.execute(
            sql.SQL("INSERT INTO {} (tenant_id) VALUES (%s) ON CONFLICT (tenant_id) DO NOTHING RETURNING 1").format(
                PENDING
            ),
            (tenant_id,),
        ).fetchone()
        if inserted is not None:
            return
    raise Conflict("A concurrent change got in the way; retry the request.")


def lock_by_ids(tx: TenantTx, ids: list[int]) -> list[OutboxRow]:
    """The unpublished rows among `ids` that no other publisher holds, locked."""
    return (
        tx.conn.cursor(row_factory=class_row(OutboxRow))
        .execute(
            sql.SQL(
                "SELECT {columns} FROM {outbox} WHERE id = ANY(%s) AND published_at IS NULL"
                " ORDER BY id FOR UPDATE SKIP LOCKED"
            ).format(columns=_COLUMNS, outbox=tx.t(TABLE)),
            (ids,),
        )
        .fetchall()
    )


def lock_left_behind(tx: TenantTx, after_id: int, min_age_s: float, limit: int) -> list[OutboxRow]:
    """Up to `limit` unpublished rows after `after_id`, older than `min_age_s`, that no other publisher holds."""
    return (
        tx.conn.cursor(row_factory=class_row(OutboxRow))
        .execute(
            sql.SQL(
                "SELECT {columns} FROM {outbox} WHERE published_at IS NULL AND id > %(after)s"
                " AND created_at < now() - make_interval(secs => %(age)s)"
                " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
            ).format(columns=_COLUMNS, outbox=tx.t(TABLE)),
            {"after": after_id, "age": min_age_s, "limit": limit},
        )
        .fetchall()
    )


def mark_published(tx: TenantTx, ids: list[int]) -> None:
    if ids:
        tx.execute(sql.SQL("UPDATE {} SET published_at = now() WHERE id = ANY(%s)").format(tx.t(TABLE)), (ids,))


def mark_failed(tx: TenantTx, ids: list[int]) -> None:
    if ids:
        tx.execute(sql.SQL("UPDATE {} SET attempts = attempts + 1 WHERE id = ANY(%s)").format(tx.t(TABLE)), (ids,))


def purge(tx: TenantTx, retention_days: int, window: int) -> int:
    """Delete rows published more than `retention_days` ago among the `window` oldest rows (an index
    range of the primary key: the cost stays bounded however large the table is)."""
    cursor = tx.execute(
        sql.SQL(
            "DELETE FROM {outbox} o USING (SELECT id FROM {outbox} ORDER BY id LIMIT %(window)s) oldest"
            " WHERE o.id = oldest.id AND o.published_at < now() - make_interval(days => %(days)s)"
        ).format(outbox=tx.t(TABLE)),
        {"window": window, "days": retention_days},
    )
    return cursor.rowcount


# ------------------------------------------------------------------ the pending tenants


def pending_tenants(conn: Conn, limit: int) -> list[PendingTenant]:
    """Tenants listed as pending, longest pending first (deleted tenants' markers are dropped)."""
    conn.execute(
        "DELETE FROM public.outbox_pending p USING public.tenants t WHERE t.id = p.tenant_id AND t.status = 'deleted'"
    )
    return (
        conn.cursor(row_factory=class_row(PendingTenant))
        .execute(
            "SELECT p.tenant_id, t.schema_name, p.since FROM public.outbox_pending p"
            " JOIN public.tenants t ON t.id = p.tenant_id ORDER BY p.since, p.tenant_id LIMIT %s",
            (limit,),
        )
        .fetchall()
    )


def release_marker(tx: TenantTx) -> tuple[bool, float | None]:
    """Remove the tenant's marker if its outbox is drained. Returns (removed, age in seconds of the
    oldest unpublished row, or None). A marker held by an emitter (or another sweep) is kept."""
    locked = tx.execute(
        sql.SQL("SELECT 1 FROM {} WHERE tenant_id = %s FOR UPDATE SKIP LOCKED").format(PENDING), (tx.tenant.tenant_id,)
    ).fetchone()
    oldest = tx.execute(
        sql.SQL(
            "SELECT extract(epoch FROM now() - created_at)::float8 AS age FROM {}"
            " WHERE published_at IS NULL ORDER BY id LIMIT 1"
        ).format(tx.t(TABLE))
    ).fetchone()
    if locked is None or oldest is not None:
        return False, max(0.0, oldest["age"]) if oldest else None
    tx.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(PENDING), (tx.tenant.tenant_id,))
    return True, None


# ------------------------------------------------------------------ the tenants consumers act for


@dataclass(frozen=True)
class RegisteredTenant:
    tenant_id: UUID
    schema_name: str
    status: str  # active | suspended | deleted


def write_freeze(conn: Conn, tenant_id: UUID) -> int | None:
    """Retry-After seconds of the tenant's write freeze (a restore or a move) in this cell, None if not frozen."""
    row = conn.execute(
        "SELECT retry_after_s FROM public.tenant_write_freezes WHERE tenant_id = %s", (tenant_id,)
    ).fetchone()
    return None if row is None else int(row["retry_after_s"])


def registered_tenant(conn: Conn, tenant_id: UUID) -> RegisteredTenant | None:
    """The tenant an event names, as the public registry has it (None if it never existed)."""
    return (
        conn.cursor(row_factory=class_row(RegisteredTenant))
        .execute("SELECT id AS tenant_id, schema_name, status FROM public.tenants WHERE id = %s", (tenant_id,))
        .fetchone()
    )
