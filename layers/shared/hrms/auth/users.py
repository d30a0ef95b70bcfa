"""Look-ups of tenant users across the registry (used by the CLI's token command)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from psycopg import sql

from hrms.db.postgres import transaction
from hrms.errors import NotFound
from hrms.tenancy import checked_schema_name


@dataclass(frozen=True)
class TenantUser:
    user_id: UUID
    role: str
    tenant_id: UUID


def find_user_by_email(tenant_slug: str, email: str) -> TenantUser:
    with transaction() as conn:
        tenant = conn.execute(
            "SELECT id, schema_name FROM public.tenants WHERE slug = %s AND status <> 'deleted'", (tenant_slug,)
        ).fetchone()
        if tenant is None:
            raise NotFound(f"No tenant '{tenant_slug}'.")
        users = sql.Identifier(checked_schema_name(tenant["schema_name"]), "users")
        user = conn.execute(
            sql.SQL("SELECT id, role FROM {} WHERE lower(email) = lower(%s)").format(users), (email,)
        ).fetchone()
    if user is None:
        raise NotFound(f"No user '{email}' in tenant '{tenant_slug}'.")
    return TenantUser(user_id=user["id"], role=user["role"], tenant_id=tenant["id"])


def has_left(schema: str) -> sql.Composed:
    """SQL true for a user (aliased `u`) whose employee record was terminated with a leaving date
    before today: such a user can neither log in nor use a token issued earlier."""
    return sql.SQL(
        "EXISTS (SELECT 1 FROM {} e WHERE e.id = u.employee_id"
        " AND e.status = 'terminated' AND e.date_of_leaving < current_date)"
    ).format(sql.Identifier(schema, "employees"))
