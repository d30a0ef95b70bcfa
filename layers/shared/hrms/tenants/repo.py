"""SQL for the tenant registry (public schema) and for laying out a new tenant schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from hrms.db import rows
from hrms.db.postgres import Conn
from hrms.migrations.files import migrations
from hrms.tenancy import checked_schema_name
from hrms.tenants import defaults


@dataclass(frozen=True)
class TenantRow:
    """A `public.tenants` row (its `id` as `tenant_id`)."""

    tenant_id: UUID
    name: str
    slug: str
    status: str
    schema_name: str
    created_at: dt.datetime
    last_activity_at: dt.datetime | None
    description: str | None
    admin_email: str
    settings: dict[str, Any]
    schema_version: int
    updated_at: dt.datetime
    cell: str  # the cell holding the schema (hrms.db.cells)


_TENANT_COLUMNS = sql.SQL(", ").join(
    sql.SQL("id AS tenant_id") if f.name == "tenant_id" else sql.Identifier(f.name) for f in fields(TenantRow)
)


def insert_tenant(
    conn: Conn,
    *,
    tenant_id: UUID | None = None,
    name: str,
    slug: str,
    schema_name: str,
    admin_email: str,
    description: str | None,
    settings: dict[str, Any],
    cell: str = "default",
    status: str = "active",
) -> UUID | None:
    """The new tenant's id, or None if the slug is taken."""
    row = conn.execute(
        "INSERT INTO public.tenants"
        " (id, name, slug, schema_name, admin_email, description, settings, schema_version, cell, status)"
        " VALUES (coalesce(%s::uuid, gen_random_uuid()), %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (slug) DO NOTHING RETURNING id",
        (
            tenant_id,
            name,
            slug,
            schema_name,
            admin_email,
            description,
            Jsonb(settings),
            len(migrations("tenant")),
            cell,
            status,
        ),
    ).fetchone()
    return row["id"] if row else None


# ---------------------------------------------------------------- provisioning in a cell (hrms.tenants.service)


def finish_provisioning(conn: Conn, tenant_id: UUID) -> bool:
    """Registry: 'provisioning' -> 'active'; False when the row is gone (recovery removed it) or not provisioning."""
    row = conn.execute(
        "UPDATE public.tenants SET status = 'active', updated_at = now() WHERE id = %s AND status = 'provisioning'"
        " RETURNING id",
        (tenant_id,),
    ).fetchone()
    return row is not None


def abandon_provisioning(conn: Conn, tenant_id: UUID) -> bool:
    """Remove a registration still 'provisioning'; True when no live registration is left (removed now or
    earlier), False when the tenant became active meanwhile (then it stays)."""
    conn.execute("DELETE FROM public.tenants WHERE id = %s AND status = 'provisioning'", (tenant_id,))
    left = conn.execute("SELECT 1 FROM public.tenants WHERE id = %s AND status <> 'deleted'", (tenant_id,)).fetchone()
    return left is None


def hosted_before(conn: Conn, older_than_s: float) -> list[tuple[UUID, str]]:
    """(id, schema) of the tenant rows of this database (a cell) created more than `older_than_s` seconds ago."""
    found = conn.execute(
        "SELECT id, schema_name FROM public.tenants WHERE created_at < now() - make_interval(secs => %s)",
        (older_than_s,),
    ).fetchall()
    return [(row["id"], row["schema_name"]) for row in found]


def provisioning(conn: Conn, older_than_s: float) -> list[TenantRow]:
    """Registry rows still 'provisioning' after `older_than_s` seconds (a creation that died midway)."""
    query = sql.SQL(
        "SELECT {} FROM public.tenants WHERE status = 'provisioning'"
        " AND created_at < now() - make_interval(secs => %s) ORDER BY created_at"
    ).format(_TENANT_COLUMNS)
    return rows.many(conn, TenantRow, query, (older_than_s,))


def delete_registration(conn: Conn, tenant_id: UUID) -> None:
    """Remove a tenant's row (and what hangs off it: features, freezes, outbox marker) from this database."""
    conn.execute("DELETE FROM public.tenants WHERE id = %s", (tenant_id,))


def hosted(conn: Conn) -> list[tuple[UUID, str]]:
    """(id, schema) of every tenant row of this database (in a cell: the tenants it hosts)."""
    found = conn.execute("SELECT id, schema_name FROM public.tenants WHERE status <> 'deleted'").fetchall()
    return [(row["id"], row["schema_name"]) for row in found]


def registered(conn: Conn, tenant_ids: Sequence[UUID], cell: str) -> set[UUID]:
    """Those of `tenant_ids` that the registry (control database) places in `cell` and has not deleted, or that
    a move is copying into `cell` or keeps there until its grace period ends (hrms.tenants.moves)."""
    found = conn.execute(
        "SELECT id FROM public.tenants WHERE id = ANY(%(ids)s) AND cell = %(cell)s AND status <> 'deleted'"
        " UNION SELECT tenant_id FROM public.tenant_moves WHERE tenant_id = ANY(%(ids)s)"
        " AND ((target = %(cell)s AND phase IN ('copying', 'frozen')) OR (source = %(cell)s AND phase = 'flipped'))",
        {"ids": list(tenant_ids), "cell": cell},
    ).fetchall()
    return {row["id"] for row in found}


def drop_schema(conn: Conn, schema_name: str) -> None:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(checked_schema_name(schema_name))))


def create_schema(conn: Conn, schema_name: str) -> None:
    """The schema and every table at the current tenant version, in the caller's transaction."""
    schema = checked_schema_name(schema_name)
    statements: list[sql.Composable] = [sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema))]
    statements += [m.statement(schema) for m in migrations("tenant")]
    conn.execute(sql.SQL(";\n").join(statements))


def seed_defaults(conn: Conn, schema_name: str, org_settings: dict[str, Any]) -> None:
    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema_name, table)

    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("INSERT INTO {} (role, permissions) VALUES (%s, %s)").format(t("role_permissions")),
            list(defaults.PERMISSIONS.items()),
        )
        cur.executemany(
            sql.SQL(
                "INSERT INTO {} (code, name, annual_quota, carry_forward_max, allow_half_day, paid)"
                " VALUES (%s, %s, %s, %s, %s, %s)"
            ).format(t("leave_types")),
            defaults.LEAVE_TYPES,
        )
        cur.executemany(
            sql.SQL("INSERT INTO {} (entity_type, steps) VALUES (%s, %s)").format(t("approval_workflows")),
            [(entity, Jsonb(steps)) for entity, steps in defaults.WORKFLOWS.items()],
        )
        cur.executemany(
            sql.SQL("INSERT INTO {} (key, value) VALUES (%s, %s)").format(t("organization_settings")),
            [(key, Jsonb(value)) for key, value in org_settings.items()],
        )


def insert_admin_user(
    conn: Conn,
    schema_name: str,
    email: str,
    password_hash: str,
    *,
    user_id: UUID | None = None,
    must_change_password: bool = True,
) -> UUID:
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {} (id, email, password_hash, role, must_change_password)"
            " VALUES (coalesce(%s::uuid, gen_random_uuid()), %s, %s, 'admin', %s) RETURNING id"
        ).format(sql.Identifier(schema_name, "users")),
        (user_id, email, password_hash, must_change_password),
    ).fetchone()
    return row["id"]  # type: ignore[index]


def audit(conn: Conn, tenant_id: UUID, action: str, actor_id: str, detail: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO public.tenant_audit (tenant_id, action, actor_id, detail) VALUES (%s, %s, %s, %s)",
        (tenant_id, action, actor_id, Jsonb(detail)),
    )


def get_tenant(conn: Conn, tenant_id: UUID, *, for_update: bool = False) -> TenantRow | None:
    query = sql.SQL("SELECT {} FROM public.tenants WHERE id = %s AND status <> 'deleted'").format(_TENANT_COLUMNS)
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    return rows.one(conn, TenantRow, query, (tenant_id,))


def find_tenant(conn: Conn, id_or_slug: str) -> TenantRow | None:
    try:
        return get_tenant(conn, UUID(id_or_slug))
    except ValueError:
        query = sql.SQL("SELECT {} FROM public.tenants WHERE slug = %s AND status <> 'deleted'")
        return rows.one(conn, TenantRow, query.format(_TENANT_COLUMNS), (id_or_slug,))


def list_tenants(conn: Conn, *, status: str | None, after_slug: str | None, limit: int) -> list[TenantRow]:
    """Keyset page ordered by slug; without `status`, the active and suspended tenants (a tenant still being
    provisioned has no committed schema yet and is nobody's to see; recovery finds it, `provisioning`)."""
    query = sql.SQL(
        "SELECT {} FROM public.tenants WHERE status = ANY(%(statuses)s)"
        " AND (%(after)s::text IS NULL OR slug > %(after)s) ORDER BY slug LIMIT %(limit)s"
    ).format(_TENANT_COLUMNS)
    statuses = [status] if status else ["active", "suspended"]
    return rows.many(conn, TenantRow, query, {"statuses": statuses, "after": after_slug, "limit": limit})


def employee_counts(conn: Conn, tenants: Sequence[TenantRow]) -> dict[UUID, int]:
    """Non-terminated employees of each tenant on a page, in one UNION ALL query."""
    present = {
        row["nspname"]
        for row in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", ([t.schema_name for t in tenants],)
        ).fetchall()
    }
    tenants = [t for t in tenants if t.schema_name in present]  # a damaged tenant must not break the page
    if not tenants:
        return {}
    parts = [
        sql.SQL("SELECT %s::uuid AS id, count(*) AS n FROM {} WHERE status <> 'terminated'").format(
            sql.Identifier(checked_schema_name(t.schema_name), "employees")
        )
        for t in tenants
    ]
    found = conn.execute(sql.SQL(" UNION ALL ").join(parts), [t.tenant_id for t in tenants]).fetchall()
    return {row["id"]: row["n"] for row in found}


def update_tenant(conn: Conn, tenant_id: UUID, changes: dict[str, Any]) -> None:
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in changes
    )
    conn.execute(
        sql.SQL("UPDATE public.tenants SET {}, updated_at = now() WHERE id = %(_id)s").format(assignments),
        {**changes, "_id": tenant_id},
    )


def get_features(conn: Conn, tenant_id: UUID) -> dict[str, bool]:
    rows = conn.execute(
        "SELECT name, enabled FROM public.tenant_features WHERE tenant_id = %s ORDER BY name", (tenant_id,)
    ).fetchall()
    return {row["name"]: row["enabled"] for row in rows}


def replace_features(conn: Conn, tenant_id: UUID, features: dict[str, bool]) -> None:
    conn.execute("DELETE FROM public.tenant_features WHERE tenant_id = %s", (tenant_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.tenant_features (tenant_id, name, enabled) VALUES (%s, %s, %s)",
            [(tenant_id, name, enabled) for name, enabled in features.items()],
        )


def table_names(conn: Conn, schema_name: str) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
        (schema_name,),
    ).fetchall()
    return [row["table_name"] for row in rows]
