"""Reading the audit trail: filters and keyset pagination, newest first.

Account data (user rows, logins, password events, role permission sets) is shown only to readers
who also hold `users:read`; `audit:read` alone sees every other entity type.
"""

from __future__ import annotations

from hrms.audit import repo
from hrms.audit.models import AuditEntry
from hrms.audit.repo import AuditFilter
from hrms.auth.permissions import held
from hrms.auth.policy import scope_of
from hrms.db.postgres import tenant_tx
from hrms.pagination import Page, bigint, decode_keyset, encode_cursor
from hrms.tenancy import Actor, Tenant

__all__ = ["ACCOUNT_ENTITY_TYPES", "AuditFilter", "list_audit_logs"]

ACCOUNT_ENTITY_TYPES = ("user", "role")


def list_audit_logs(
    tenant: Tenant, actor: Actor, filters: AuditFilter, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    after = decode_keyset(cursor, bigint)
    with tenant_tx(tenant, actor) as tx:
        sees_accounts = scope_of(held(tx, actor), "users:read") is not None
        hidden = () if sees_accounts else ACCOUNT_ENTITY_TYPES
        entries = repo.list_page(tx, filters, hidden, after[0] if after else None, limit + 1)
    page = entries[:limit]
    return Page(items=page, next_cursor=encode_cursor([str(page[-1].id)]) if len(entries) > limit else None)
