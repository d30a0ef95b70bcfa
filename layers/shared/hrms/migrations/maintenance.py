"""PostgreSQL maintenance per tenant schema: index check and repair, ANALYZE, VACUUM and statistics.

Everything runs on one dedicated autocommit connection (VACUUM and CREATE INDEX CONCURRENTLY
cannot run inside a transaction), outside the pool and its statement timeout.
Per cell (hrms.db.cells): each command works on the tenant schemas of one cell at a time, on that cell's
database: `cell` when given, else the cell of `tenant`, else every cell in turn (statistics: the control
database's cell unless told otherwise).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from uuid import UUID

import psycopg
from psycopg import sql
from pydantic import Field

from hrms.db import cells
from hrms.db.postgres import Conn, connect
from hrms.errors import NotFound
from hrms.migrations.files import SCHEMA_TOKEN, Migration, latest_version, migrations
from hrms.models import ApiModel
from hrms.tenancy import checked_schema_name

Progress = Callable[[int, int, str], None]  # done, total, schema just finished

_CREATE_INDEX = re.compile(
    rf"CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>\w+)\s+"
    rf"ON\s+{SCHEMA_TOKEN}\.(?P<table>\w+)\s+(?P<body>[^;]+);",
    re.IGNORECASE,
)
_SQL_COMMENT = re.compile(r"--[^\n]*")
_TARGETS = """
SELECT slug, schema_name, schema_version, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = schema_name) AS present
FROM public.tenants
WHERE status <> 'deleted' AND (%(key)s::text IS NULL OR slug = %(key)s OR id::text = %(key)s) AND cell = %(cell)s
ORDER BY slug
"""
_SCHEMA_INDEXES = """
SELECT c.relname AS name, i.indisvalid AS valid, i.indisunique OR i.indisprimary OR i.indisexclusion AS enforces,
       coalesce(s.idx_scan, 0) AS scans
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %s)
ORDER BY c.relname
"""
_SCHEMA_TABLES = """
SELECT relname AS name FROM pg_class
WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %s) AND relkind IN ('r', 'm', 'p')
ORDER BY relname
"""


@dataclass(frozen=True)
class Target:
    """A tenant schema to work on."""

    slug: str
    schema: str
    version: int
    present: bool


class SchemaIndexes(ApiModel):
    tenant: str
    schema_name: str
    missing: list[str] = Field(default_factory=list)
    created: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)
    unused: list[str] = Field(default_factory=list)
    skipped: str | None = None


class SchemaRun(ApiModel):
    tenant: str
    schema_name: str
    tables: int = 0
    seconds: float = 0.0
    error: str | None = None


class Statement(ApiModel):
    query: str
    calls: int
    mean_ms: float
    total_ms: float
    rows: int


class SlowStatements(ApiModel):
    available: bool
    reason: str | None = None
    statements: list[Statement] = Field(default_factory=list)


class IndexUsage(ApiModel):
    table: str
    index: str
    schemas: int  # tenant schemas summed up in this row
    scans: int
    tuples_read: int
    size_bytes: int


class CacheHitRatio(ApiModel):
    tables: float | None  # of the tenant schemas in scope
    indexes: float | None
    database: float | None


class Connections(ApiModel):
    total: int
    max: int
    by_state: dict[str, int]


class DatabaseStats(ApiModel):
    tenant: str | None
    schemas: int
    slow_statements: SlowStatements
    index_usage: list[IndexUsage]
    unused_indexes: list[IndexUsage]
    cache_hit_ratio: CacheHitRatio
    connections: Connections


def targets(conn: Conn, tenant: str | None, cell: str = cells.DEFAULT) -> list[Target]:
    """One tenant's schema (slug or id), or every non-deleted tenant's of the cell, ordered by slug."""
    rows = conn.execute(_TARGETS, {"key": tenant, "cell": cell}).fetchall()
    if tenant is not None and not rows:
        raise NotFound(f"No tenant '{tenant}'.")
    return [Target(r["slug"], checked_schema_name(r["schema_name"]), r["schema_version"], r["present"]) for r in rows]


# Indexes


def in_scope(tenant: str | None, cell: str | None) -> list[str]:
    """The cells a command works on: `cell`; else the cell of `tenant` (slug or id); else every cell."""
    if cell is not None:
        return [cells.cell(cell).name]
    if tenant is not None:
        try:
            return [cells.cell_of(UUID(tenant))]
        except ValueError:
            return [cells.cell_of_slug(tenant)]
    return list(cells.configured())


def ensure_indexes(
    tenant: str | None, *, dry_run: bool = False, progress: Progress | None = None, cell: str | None = None
) -> list[SchemaIndexes]:
    """Compare each schema's indexes with the migrations', create the missing ones and list unused ones."""
    reports = []
    for name in in_scope(tenant, cell):
        with connect(name) as conn:
            found = targets(conn, tenant, name)
            expected = expected_indexes(conn)
            for done, target in enumerate(found, 1):
                reports.append(_ensure_schema_indexes(conn, target, expected, dry_run))
                if progress:
                    progress(done, len(found), target.schema)
    return reports


def expected_indexes(conn: Conn) -> dict[str, Migration | None]:
    """Every index of a schema at the latest tenant version (laid out in a scratch schema that is rolled back),
    with the migration's CREATE INDEX to recreate it, or None when a PRIMARY KEY/UNIQUE constraint owns it."""
    scratch = f"tenant_indexref_{secrets.token_hex(4)}"
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
        for migration in migrations("tenant"):
            conn.execute(migration.statement(scratch))
        names = [row["name"] for row in conn.execute(_SCHEMA_INDEXES, (scratch,)).fetchall()]
        raise psycopg.Rollback
    statements = _index_statements()
    return {name: statements.get(name) for name in names}


@cache
def _index_statements() -> dict[str, Migration]:
    """The tenant migrations' CREATE INDEX statements as CONCURRENTLY IF NOT EXISTS, by name (a later one wins)."""
    found = {}
    for migration in migrations("tenant"):
        for match in _CREATE_INDEX.finditer(_SQL_COMMENT.sub("", migration.text)):
            unique = "UNIQUE " if match["unique"] else ""
            text = (
                f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {match['name']}"
                f" ON {SCHEMA_TOKEN}.{match['table']} {match['body'].strip()}"
            )
            found[match["name"]] = replace(migration, text=text)
    return found


def _ensure_schema_indexes(
    conn: Conn, target: Target, expected: dict[str, Migration | None], dry_run: bool
) -> SchemaIndexes:
    report = SchemaIndexes(tenant=target.slug, schema_name=target.schema)
    latest = latest_version("tenant")
    if not target.present:
        report.skipped = "schema missing"
        return report
    if target.version < latest:
        report.skipped = f"schema at version {target.version} of {latest}: run `hrms migrate up` first"
        return report
    present = {row["name"]: row for row in conn.execute(_SCHEMA_INDEXES, (target.schema,)).fetchall()}
    report.missing = [name for name in expected if not (name in present and present[name]["valid"])]
    report.unused = [n for n, row in present.items() if row["valid"] and not row["enforces"] and row["scans"] == 0]
    if dry_run:
        return report
    for name in report.missing:
        create = expected[name]
        if create is None:
            report.failed[name] = "owned by a PRIMARY KEY/UNIQUE constraint: restore the constraint"
            continue
        try:
            if name in present:  # an invalid leftover of an interrupted CREATE INDEX CONCURRENTLY
                conn.execute(
                    sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(target.schema, name))
                )
            conn.execute(create.statement(target.schema))
            report.created.append(name)
        except psycopg.Error as exc:
            report.failed[name] = _first_line(exc)
    return report


# ANALYZE and VACUUM


def analyze(tenant: str | None, *, progress: Progress | None = None, cell: str | None = None) -> list[SchemaRun]:
    """ANALYZE every table of each tenant schema in scope."""
    return _each_schema(tenant, sql.SQL("ANALYZE"), progress, cell)


def vacuum(
    tenant: str | None,
    *,
    full: bool = False,
    with_analyze: bool = False,
    progress: Progress | None = None,
    cell: str | None = None,
) -> list[SchemaRun]:
    """VACUUM every table of each tenant schema in scope (FULL rewrites tables under an exclusive lock)."""
    command = sql.SQL("VACUUM (FULL {}, ANALYZE {})").format(sql.Literal(full), sql.Literal(with_analyze))
    return _each_schema(tenant, command, progress, cell)


def _each_schema(
    tenant: str | None, command: sql.Composable, progress: Progress | None, cell: str | None
) -> list[SchemaRun]:
    """`command` (ANALYZE, VACUUM ...) over all tables of each schema, one statement per schema, cell by cell."""
    runs = []
    for name in in_scope(tenant, cell):
        with connect(name) as conn:
            found = targets(conn, tenant, name)
            for done, target in enumerate(found, 1):
                runs.append(_run_on_schema(conn, target, command))
                if progress:
                    progress(done, len(found), target.schema)
    return runs


def _run_on_schema(conn: Conn, target: Target, command: sql.Composable) -> SchemaRun:
    run = SchemaRun(tenant=target.slug, schema_name=target.schema)
    if not target.present:
        run.error = "schema missing"
        return run
    started = time.perf_counter()
    tables = [sql.Identifier(target.schema, row["name"]) for row in conn.execute(_SCHEMA_TABLES, (target.schema,))]
    run.tables = len(tables)
    if tables:
        try:
            conn.execute(sql.SQL("{} {}").format(command, sql.SQL(", ").join(tables)))
        except psycopg.Error as exc:
            run.error = _first_line(exc)
    run.seconds = round(time.perf_counter() - started, 3)
    return run


# Statistics


def stats(tenant: str | None, *, limit: int = 10, cell: str | None = None) -> DatabaseStats:
    """The slowest statements, index usage, unused indexes, cache hit ratio and connections of one cell's
    database (`cell`, else the tenant's, else the control database's)."""
    name = in_scope(tenant, cell)[0] if (tenant or cell) else cells.DEFAULT
    with connect(name) as conn:
        found = targets(conn, tenant, name)
        schemas = [t.schema for t in found if t.present]
        return DatabaseStats(
            tenant=tenant,
            schemas=len(schemas),
            slow_statements=_slow_statements(conn, found[0].schema if tenant else None, limit),
            index_usage=_index_usage(conn, schemas, unused=False),
            unused_indexes=_index_usage(conn, schemas, unused=True),
            cache_hit_ratio=_cache_hit_ratio(conn, schemas),
            connections=_connections(conn),
        )


def _slow_statements(conn: Conn, schema: str | None, limit: int) -> SlowStatements:
    """From pg_stat_statements (only statements naming `schema` when given), slowest mean first."""
    row = conn.execute(
        "SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pg_stat_statements'"
    ).fetchone()
    if row is None:
        preload = conn.execute("SELECT current_setting('shared_preload_libraries') AS libs").fetchone()
        preloaded = "pg_stat_statements" in preload["libs"]  # type: ignore[index]
        hint = "run CREATE EXTENSION pg_stat_statements" if preloaded else "add it to shared_preload_libraries"
        return SlowStatements(available=False, reason=f"pg_stat_statements is not installed ({hint})")
    view = sql.Identifier(row["schema"], "pg_stat_statements")
    try:
        rows = conn.execute(
            sql.SQL(
                "SELECT query, calls, mean_exec_time AS mean_ms, total_exec_time AS total_ms, rows FROM {}"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND (%(schema)s::text IS NULL OR strpos(query, %(schema)s) > 0)"
                " ORDER BY mean_exec_time DESC LIMIT %(limit)s"
            ).format(view),
            {"schema": schema, "limit": limit},
        ).fetchall()
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:  # installed but not preloaded
        return SlowStatements(available=False, reason=_first_line(exc))
    return SlowStatements(available=True, statements=[Statement.model_validate(r) for r in rows])


def _index_usage(conn: Conn, schemas: list[str], *, unused: bool) -> list[IndexUsage]:
    """Per index of the tenant tables, summed over the schemas; `unused`: never scanned, not a constraint."""
    where = sql.SQL(
        " AND s.idx_scan = 0 AND NOT (i.indisunique OR i.indisprimary OR i.indisexclusion)" if unused else ""
    )
    rows = conn.execute(
        sql.SQL(
            "SELECT s.relname AS table, s.indexrelname AS index, count(*) AS schemas, sum(s.idx_scan) AS scans,"
            " sum(s.idx_tup_read) AS tuples_read, sum(pg_relation_size(s.indexrelid)) AS size_bytes"
            " FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid"
            " WHERE s.schemaname = ANY(%s){} GROUP BY 1, 2 ORDER BY scans DESC, 1, 2"
        ).format(where),
        (schemas,),
    ).fetchall()
    return [IndexUsage.model_validate(r) for r in rows]


def _cache_hit_ratio(conn: Conn, schemas: list[str]) -> CacheHitRatio:
    row = conn.execute(
        "SELECT sum(heap_blks_hit)::float8 / nullif(sum(heap_blks_hit) + sum(heap_blks_read), 0) AS tables,"
        " sum(idx_blks_hit)::float8 / nullif(sum(idx_blks_hit) + sum(idx_blks_read), 0) AS indexes,"
        " (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) FROM pg_stat_database"
        "  WHERE datname = current_database()) AS database"
        " FROM pg_statio_user_tables WHERE schemaname = ANY(%s)",
        (schemas,),
    ).fetchone()
    return CacheHitRatio.model_validate(row)


def _connections(conn: Conn) -> Connections:
    rows = conn.execute(
        "SELECT coalesce(state, 'unknown') AS state, count(*) AS n FROM pg_stat_activity"
        " WHERE datname = current_database() GROUP BY 1 ORDER BY 1"
    ).fetchall()
    limit = conn.execute("SELECT current_setting('max_connections')::int AS n").fetchone()
    by_state = {row["state"]: row["n"] for row in rows}
    return Connections(total=sum(by_state.values()), max=limit["n"], by_state=by_state)  # type: ignore[index]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
