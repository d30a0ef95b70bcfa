"""Reading the audit trail: filters and keyset pagination, newest first.

Account data (user rows, logins, password events, role permission sets) is shown only to readers
who also hold `users:read`; `audit:read` alone sees every other entity type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import sql

from hrms.audit.models import AuditEntry
from hrms.auth.permissions import held
from hrms.auth.policy import scope_of
from hrms.db.postgres import tenant_tx
from hrms.pagination import Page, bigint, decode_keyset, encode_cursor
from hrms.tenancy import Actor, Tenant

ACCOUNT_ENTITY_TYPES = ("user", "role")


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_audit_logs(
    tenant: Tenant, actor: Actor, filters: AuditFilter, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    after = decode_keyset(cursor, bigint)
    before_id = after[0] if after else None
    with tenant_tx(tenant, actor) as tx:
        rows = tx.execute(
            sql.SQL(
                "SELECT * FROM {} WHERE (%(et)s::text IS NULL OR entity_type = %(et)s)"
                " AND (%(eid)s::text IS NULL OR entity_id = %(eid)s)"
                " AND (%(actor)s::text IS NULL OR actor_id = %(actor)s)"
                " AND (%(since)s::timestamptz IS NULL OR occurred_at >= %(since)s)"
                " AND (%(until)s::timestamptz IS NULL OR occurred_at < %(until)s)"
                " AND (%(before)s::bigint IS NULL OR id < %(before)s)"
                " AND (%(accounts)s OR entity_type <> ALL(%(account_types)s))"
                " ORDER BY id DESC LIMIT %(limit)s"
            ).format(tx.t("audit_logs")),
            {
                "et": filters.entity_type,
                "eid": filters.entity_id,
                "actor": filters.actor_id,
                "since": filters.since,
                "until": filters.until,
                "before": before_id,
                "accounts": scope_of(held(tx, actor), "users:read") is not None,
                "account_types": list(ACCOUNT_ENTITY_TYPES),
                "limit": limit + 1,
            },
        ).fetchall()
    page = rows[:limit]
    return Page(
        items=[AuditEntry(**row) for row in page],
        next_cursor=encode_cursor([str(page[-1]["id"])]) if len(rows) > limit else None,
    )
