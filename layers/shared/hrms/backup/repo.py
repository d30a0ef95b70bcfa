"""SQL of backup and restore: registry and catalog look-ups, and the statements a restore runs around
the dump in psql. `pg_dump`/`psql` themselves are `pgtools`; the object store is `storage`.

Identifiers through `sql.Identifier` (schema names have passed `checked_schema_name` or come from
the catalog), values bound. Rows come out typed: each row shape is a frozen dataclass below, filled
by psycopg's `class_row` from a query selecting exactly its fields; single values through
`scalar_row`. The statements sent to psql are composed here and rendered by `script`, which quotes
every value as a literal (psql receives text, not parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg import sql

from hrms.db import rows

Connection = psycopg.Connection[Any]


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class SchemaState:
    """A tenant of the registry by its schema: the registry's schema version, whether the schema exists."""

    schema_version: int
    present: bool


@dataclass(frozen=True)
class Placement:
    """A tenant of the registry and its cell."""

    cell: str
    id: str


@dataclass(frozen=True)
class ServerVersion:
    num: int  # server_version_num, e.g. 180006
    version: str  # server_version, e.g. "18.6 (Debian 18.6-1)"


@dataclass(frozen=True)
class Table:
    schemaname: str
    tablename: str


@dataclass(frozen=True)
class RowCount:
    name: str  # "schema.table"
    n: int


# ---------------------------------------------------------------- the registry


def tenant_schema(conn: Connection, column: Literal["id", "slug"], value: UUID | str) -> str | None:
    """The schema of the tenant (not deleted) whose `column` is `value`."""
    query = sql.SQL("SELECT schema_name FROM public.tenants WHERE {} = %s AND status <> 'deleted'").format(
        sql.Identifier(column)
    )
    found = rows.scalar(conn, query, (value,))
    return str(found) if found is not None else None


def active_schemas(conn: Connection) -> list[str]:
    """The schemas of the active tenants, by slug."""
    query = sql.SQL("SELECT schema_name FROM public.tenants WHERE status = 'active' ORDER BY slug")
    return rows.scalars(conn, query)


def schema_state(conn: Connection, schema: str, *, deleted_too: bool) -> SchemaState | None:
    """The tenant owning `schema` (with `deleted_too`, even a deleted one); None if no tenant has it."""
    query = sql.SQL(
        "SELECT t.schema_version, n.oid IS NOT NULL AS present FROM public.tenants t"
        " LEFT JOIN pg_namespace n ON n.nspname = t.schema_name WHERE t.schema_name = %s{}"
    ).format(sql.SQL("") if deleted_too else sql.SQL(" AND t.status <> 'deleted'"))
    return rows.one(conn, SchemaState, query, (schema,))


def tenant_id_of_schema(conn: Connection, schema: str) -> UUID | None:
    query = sql.SQL("SELECT id FROM public.tenants WHERE schema_name = %s")
    found: UUID | None = rows.scalar(conn, query, (schema,))
    return found


def tenants_off_default(conn: Connection) -> dict[str, list[str]]:
    """The registry's tenants placed on a cell other than `default`, any status: cell -> tenant ids."""
    query = sql.SQL("SELECT cell, id::text AS id FROM public.tenants WHERE cell <> 'default' ORDER BY cell, id")
    found: dict[str, list[str]] = {}
    for row in rows.many(conn, Placement, query):
        found.setdefault(row.cell, []).append(row.id)
    return found


def public_version(conn: Connection) -> int:
    """The latest applied migration of `public` (0 before any)."""
    query = sql.SQL(
        "SELECT CASE WHEN to_regclass('public.schema_migrations') IS NULL THEN 0 ELSE"
        " (SELECT coalesce(max(version), 0) FROM public.schema_migrations WHERE scope = 'public') END AS v"
    )
    found = rows.scalar(conn, query)
    return int(found) if found is not None else 0


# ---------------------------------------------------------------- the server and its catalog


def server_version(conn: Connection) -> ServerVersion:
    query = sql.SQL(
        "SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS version"
    )
    found = rows.one(conn, ServerVersion, query)
    assert found is not None
    return found


def restored_schemas(conn: Connection) -> list[str]:
    """`public` and the tenant schemas, by name."""
    query = sql.SQL(
        "SELECT nspname FROM pg_namespace WHERE nspname = 'public' OR nspname ~ '^tenant_' ORDER BY nspname"
    )
    return rows.scalars(conn, query)


def user_schemas(conn: Connection) -> list[str]:
    """Every schema but `public`, `information_schema` and the system's `pg_*`."""
    query = sql.SQL(
        "SELECT nspname FROM pg_namespace"
        " WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'"
    )
    return rows.scalars(conn, query)


def has_table(conn: Connection, schema: str, table: str) -> bool:
    query = sql.SQL("SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL AS found")
    return bool(rows.scalar(conn, query, (schema, table)))


def row_counts(conn: Connection, schemas: list[str]) -> dict[str, int]:
    """Exact rows of every table of `schemas`, as {"schema.table": n}."""
    query = sql.SQL("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2")
    tables = rows.many(conn, Table, query, (schemas,))
    counts: dict[str, int] = {}
    for start in range(0, len(tables), 200):
        batch = tables[start : start + 200]
        parts = [
            sql.SQL("SELECT {} AS name, count(*) AS n FROM {}").format(
                sql.Literal(f"{t.schemaname}.{t.tablename}"), sql.Identifier(t.schemaname, t.tablename)
            )
            for t in batch
        ]
        for row in rows.many(conn, RowCount, sql.SQL(" UNION ALL ").join(parts)):
            counts[row.name] = int(row.n)
    return counts


def create_database(conn: Connection, name: str) -> None:
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(conn: Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ---------------------------------------------------------------- what a restore runs in psql, around the dump

# A full restore over the live database, in one transaction: every schema's cache epochs kept aside,
# every schema dropped, `public` recreated empty.
DROP_ALL_SCHEMAS = """
CREATE TEMP TABLE hrms_restore_epochs (schema_name text, name text, epoch bigint) ON COMMIT DROP;
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
  LOOP
    IF to_regclass(format('%I.cache_epochs', s)) IS NOT NULL THEN
      EXECUTE format('LOCK TABLE %I.cache_epochs IN SHARE MODE', s);
      EXECUTE format('INSERT INTO pg_temp.hrms_restore_epochs SELECT %L, name, epoch FROM %I.cache_epochs', s, s);
    END IF;
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
END $$;
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;
GRANT USAGE ON SCHEMA public TO PUBLIC;
"""

# After it: every restored schema's epochs set past the ones kept aside.
BUMP_ALL_EPOCHS = """
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT DISTINCT schema_name FROM pg_temp.hrms_restore_epochs LOOP
    IF to_regclass(format('%I.cache_epochs', s)) IS NOT NULL THEN
      EXECUTE format('INSERT INTO %I.cache_epochs AS e (name, epoch)'
                     ' SELECT name, epoch + 1 FROM pg_temp.hrms_restore_epochs WHERE schema_name = %L'
                     ' ON CONFLICT (name) DO UPDATE SET epoch = GREATEST(e.epoch, EXCLUDED.epoch)', s, s);
    END IF;
  END LOOP;
END $$;
"""


def full_restore_prelude(timeout: str) -> str:
    """Before the dump of a full restore over the live database (one transaction)."""
    return f"SET lock_timeout = '{timeout}';\n{DROP_ALL_SCHEMAS}"


def lock_timeout(timeout: str) -> sql.Composed:
    return sql.SQL("SET lock_timeout = {}").format(sql.Literal(timeout))


def schema_restore_prelude(schema: str, *, keep_epochs: bool, timeout: str) -> list[sql.Composable]:
    """Before a schema's dump: its cache epochs kept aside (if it has them), the schema dropped."""
    statements: list[sql.Composable] = [lock_timeout(timeout)]
    statements.append(sql.SQL("CREATE TEMP TABLE hrms_restore_epochs (name text, epoch bigint) ON COMMIT DROP"))
    if keep_epochs:
        epochs = sql.Identifier(schema, "cache_epochs")
        statements.append(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(epochs))
        statements.append(sql.SQL("INSERT INTO pg_temp.hrms_restore_epochs SELECT name, epoch FROM {}").format(epochs))
    statements.append(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    return statements


def schema_restore_postlude(schema: str, schema_version: int) -> list[sql.Composable]:
    """After a schema's dump (and its migrations): the epochs past those kept aside, the registry's
    `schema_version` of its tenant set."""
    return [
        sql.SQL(
            "INSERT INTO {} AS e (name, epoch) SELECT name, epoch + 1 FROM pg_temp.hrms_restore_epochs"
            " ON CONFLICT (name) DO UPDATE SET epoch = GREATEST(e.epoch, EXCLUDED.epoch)"
        ).format(sql.Identifier(schema, "cache_epochs")),
        sql.SQL(
            "UPDATE public.tenants SET schema_version = {v}, updated_at = now()"
            " WHERE schema_name = {s} AND schema_version <> {v}"
        ).format(v=sql.Literal(schema_version), s=sql.Literal(schema)),
    ]


def drop_schemas(names: list[str]) -> list[sql.Composable]:
    """Statements emptying a database of `names` (every schema but `public`) and of `public`'s objects."""
    statements: list[sql.Composable] = [sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(n)) for n in names]
    statements += [
        sql.SQL("DROP SCHEMA public CASCADE"),
        sql.SQL("CREATE SCHEMA public"),
        sql.SQL("GRANT USAGE ON SCHEMA public TO PUBLIC"),
    ]
    return statements


def script(conn: Connection, statements: list[sql.Composable]) -> str:
    """`statements` as psql input, one per line."""
    return "".join(f"{statement.as_string(conn)};\n" for statement in statements)


# ---------------------------------------------------------------- write freezes: the restore's journal


@dataclass(frozen=True)
class Freeze:
    """A `public.tenant_write_freezes` row with its tenant's schema."""

    tenant_id: UUID
    schema_name: str
    operation_id: str
    reason: str
    retry_after_s: int
    backup_key: str | None
    safety_backup_key: str | None
    mongo_database: str | None
    phase: str
    pg_restored: bool
    idle_s: float  # since the operation last recorded progress


_FREEZE_FIELDS = sql.SQL(
    "f.tenant_id, t.schema_name, f.operation_id, f.reason, f.retry_after_s, f.backup_key, f.safety_backup_key,"
    " f.mongo_database, f.phase, f.pg_restored, extract(epoch FROM now() - f.updated_at)::float8 AS idle_s"
)


def start_freeze(
    conn: Connection,
    tenant_id: UUID,
    operation_id: str,
    *,
    reason: str,
    retry_after_s: int,
    backup_key: str,
    mongo_database: str,
) -> bool:
    """Freeze the tenant's writes for an operation; False if another operation froze them already."""
    query = sql.SQL(
        "INSERT INTO public.tenant_write_freezes"
        " (tenant_id, operation_id, reason, retry_after_s, backup_key, mongo_database)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id) DO NOTHING RETURNING operation_id"
    )
    values = (tenant_id, operation_id, reason, retry_after_s, backup_key, mongo_database)
    return rows.scalar(conn, query, values) is not None


def update_freeze(conn: Connection, operation_id: str, *, phase: str, safety_backup_key: str | None = None) -> None:
    query = sql.SQL(
        "UPDATE public.tenant_write_freezes SET phase = %s,"
        " safety_backup_key = coalesce(%s, safety_backup_key), updated_at = now() WHERE operation_id = %s"
    )
    conn.execute(query, (phase, safety_backup_key, operation_id))


def end_freeze(conn: Connection, operation_id: str) -> None:
    conn.execute(sql.SQL("DELETE FROM public.tenant_write_freezes WHERE operation_id = %s"), (operation_id,))


def freezes(conn: Connection, reason: str) -> list[Freeze]:
    query = sql.SQL(
        "SELECT {} FROM public.tenant_write_freezes f JOIN public.tenants t ON t.id = f.tenant_id"
        " WHERE f.reason = %s ORDER BY f.started_at"
    ).format(_FREEZE_FIELDS)
    return rows.many(conn, Freeze, query, (reason,))


def freeze_of(conn: Connection, operation_id: str) -> Freeze | None:
    query = sql.SQL(
        "SELECT {} FROM public.tenant_write_freezes f JOIN public.tenants t ON t.id = f.tenant_id"
        " WHERE f.operation_id = %s"
    ).format(_FREEZE_FIELDS)
    return rows.one(conn, Freeze, query, (operation_id,))


def pg_restored_marker(operation_id: str) -> sql.Composed:
    """Run by psql inside the restore's transaction: the journal says the PostgreSQL part committed
    exactly when it did."""
    return sql.SQL(
        "UPDATE public.tenant_write_freezes SET pg_restored = true, updated_at = now() WHERE operation_id = {}"
    ).format(sql.Literal(operation_id))
