"""Writing the audit trail: one row per mutating operation, in the same transaction as the change
(MongoDB-side writes: `hrms.db.mongo_audit`). Read by the `hrms.audit` domain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from hrms.db.postgres import TenantTx
from hrms.request_context import request_id

# Columns that never reach an audit row (hashes, ciphertexts, blind indexes).
SECRET_COLUMNS = frozenset(
    {"password_hash", "pan_encrypted", "pan_blind_index", "aadhaar_encrypted", "aadhaar_blind_index"}
)


def _clean(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v for k, v in row.items() if k not in SECRET_COLUMNS}


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[dict | None, dict | None]:
    """Only the columns that changed (all of them on create/delete), without secrets."""
    before_c, after_c = _clean(before), _clean(after)
    if before_c is None or after_c is None:
        return before_c, after_c
    changed = {k for k in before_c.keys() | after_c.keys() if before_c.get(k) != after_c.get(k)} - {"updated_at"}
    return {k: before_c.get(k) for k in changed}, {k: after_c.get(k) for k in changed}


def record(
    tx: TenantTx,
    action: str,
    entity_type: str,
    entity_id: object | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Write one audit row in `tx` (the caller's transaction) for the transaction's actor."""
    record_many(tx, action, entity_type, [(entity_id, before, after)])


def record_many(
    tx: TenantTx,
    action: str,
    entity_type: str,
    changes: Sequence[tuple[object | None, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> None:
    """One audit row per (entity id, before, after) of a bulk write (imports), in one statement batch."""
    if tx.actor is None:
        raise RuntimeError("audited writes need an actor on the transaction")
    rows = []
    for entity_id, before, after in changes:
        old, new = diff(before, after)
        rows.append(
            (
                tx.actor.user_id,
                tx.actor.role,
                action,
                entity_type,
                None if entity_id is None else str(entity_id),
                Jsonb(old, dumps=_dumps) if old is not None else None,
                Jsonb(new, dumps=_dumps) if new is not None else None,
                request_id.get(),
            )
        )
    query = sql.SQL(
        "INSERT INTO {} (actor_id, actor_role, action, entity_type, entity_id, before, after, request_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    ).format(tx.t("audit_logs"))
    if len(rows) == 1:
        tx.execute(query, rows[0])
    elif rows:
        with tx.conn.cursor() as cursor:
            cursor.executemany(query, rows)


def record_event(tx: TenantTx, entry: Mapping[str, Any]) -> None:
    """The row of an audited MongoDB write (`hrms.db.mongo_audit`): actor, time and changes as the
    entry recorded them, at most once per `eventId` however often it is delivered."""
    tx.execute(
        sql.SQL(
            "INSERT INTO {} (event_id, occurred_at, actor_id, actor_role, action, entity_type, entity_id,"
            " before, after, request_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING"
        ).format(tx.t("audit_logs")),
        (
            entry["eventId"],
            entry["at"],
            entry["actorId"],
            entry["actorRole"],
            entry["action"],
            entry["entityType"],
            entry["entityId"],
            Jsonb(entry["before"], dumps=_dumps) if entry["before"] is not None else None,
            Jsonb(entry["after"], dumps=_dumps) if entry["after"] is not None else None,
            entry["requestId"],
        ),
    )


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
