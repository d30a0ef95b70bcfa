"""SQL of the audit domain (reading `audit_logs`; rows are written by `hrms.db.audit_log`).

Rows come out typed: a `kwargs_row` factory builds the `AuditEntry` of each row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import sql
from psycopg.rows import kwargs_row

from hrms.audit.models import AuditEntry
from hrms.db.postgres import TenantTx

TABLE = "audit_logs"
_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, AuditEntry.model_fields))


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_page(
    tx: TenantTx, filters: AuditFilter, hidden_entity_types: Sequence[str], before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Up to `limit` entries matching `filters`, none of `hidden_entity_types`, newest (highest id) first,
    strictly before `before_id`."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE (%(et)s::text IS NULL OR entity_type = %(et)s)"
        " AND (%(eid)s::text IS NULL OR entity_id = %(eid)s)"
        " AND (%(actor)s::text IS NULL OR actor_id = %(actor)s)"
        " AND (%(since)s::timestamptz IS NULL OR occurred_at >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR occurred_at < %(until)s)"
        " AND (%(before)s::bigint IS NULL OR id < %(before)s)"
        " AND entity_type <> ALL(%(hidden)s::text[])"
        " ORDER BY id DESC LIMIT %(limit)s"
    ).format(_COLUMNS, tx.t(TABLE))
    params = {
        "et": filters.entity_type,
        "eid": filters.entity_id,
        "actor": filters.actor_id,
        "since": filters.since,
        "until": filters.until,
        "before": before_id,
        "hidden": list(hidden_entity_types),
        "limit": limit,
    }
    with tx.conn.cursor(row_factory=kwargs_row(AuditEntry)) as cur:
        return cur.execute(query, params).fetchall()
