"""Apply public and per-tenant migrations.

- A no-op `up` over any number of tenants is a single query.
- Each tenant schema is migrated in its own transaction, in parallel; a failing schema is
  reported and skipped, the others carry on, and the next run resumes where it stopped
  (progress lives in `public.tenants.schema_version`).
- One runner at a time (session advisory lock on a dedicated connection).
- An applied migration must not change: `public.schema_migrations` keeps the checksum of every
  public migration applied and of every tenant migration registered (tenant schemas apply the
  registered files; the registry says how far each got). When a file's checksum differs from the
  recorded one, `up` applies nothing and raises `ChecksumDrift` naming the file, its scope and, for a
  tenant migration, the schemas that ran it; `status` lists the same drift. The comparison is part of
  the one state query: a handful of recorded rows against the shipped files, whatever the tenant
  count (the schemas are counted only for a file that drifted).
- Cells (hrms.db.cells): every cell is a database of its own with this public schema; a run over one cell
  (`cell`) migrates the tenant schemas whose row there names that cell (the control database also holds the
  registry rows of other cells' tenants, which it leaves alone). `up_cells` runs every cell in parallel;
  one cell failing leaves the others at their versions and the report names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from hrms.config import settings
from hrms.db import postgres
from hrms.errors import Conflict
from hrms.migrations.files import Migration, Scope, migrations

Conn = psycopg.Connection[DictRow]
_LOCK_KEY = 0x4852_4D53  # "HRMS"
_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    scope      text NOT NULL CHECK (scope IN ('public', 'tenant')),
    version    integer NOT NULL,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, version)
)"""
DRIFT_EXAMPLES = 5  # tenant schemas named per drifted file (with the count of all of them)
_STATE = """
WITH mine AS (  -- this cell's tenants (written without the column, which public migration 0006 adds)
    SELECT t.* FROM public.tenants t WHERE coalesce(to_jsonb(t) ->> 'cell', 'default') = %(cell)s
), shipped (scope, version, file, checksum) AS (
    SELECT * FROM unnest(%(scopes)s::text[], %(versions)s::int[], %(files)s::text[], %(checksums)s::text[])
), drifted AS (
    SELECT s.scope, s.version, s.file, m.checksum AS recorded, s.checksum AS actual
    FROM shipped s JOIN public.schema_migrations m USING (scope, version)
    WHERE m.checksum <> s.checksum
)
SELECT (SELECT coalesce(max(version), 0) FROM public.schema_migrations WHERE scope = 'public') AS public_version,
       (SELECT coalesce(max(version), 0) FROM public.schema_migrations WHERE scope = 'tenant') AS tenant_registered,
       (SELECT count(*) FROM mine WHERE status <> 'deleted') AS tenants_total,
       (SELECT count(*) FROM mine
        WHERE status <> 'deleted' AND schema_version < %(latest)s) AS tenants_behind,
       (SELECT count(*) FROM shipped JOIN public.schema_migrations USING (scope, version)) AS checked,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'file', d.file, 'scope', d.scope, 'version', d.version, 'recorded', d.recorded, 'actual', d.actual,
                   'schemas', CASE d.scope WHEN 'tenant' THEN (
                       SELECT count(*) FROM mine t
                       WHERE t.status <> 'deleted' AND t.schema_version >= d.version) END,
                   'examples', CASE d.scope WHEN 'tenant' THEN (
                       SELECT coalesce(jsonb_agg(e.schema_name ORDER BY e.schema_name), '[]')
                       FROM (SELECT t.schema_name FROM mine t
                             WHERE t.status <> 'deleted' AND t.schema_version >= d.version
                             ORDER BY t.schema_name LIMIT %(examples)s) e) ELSE '[]' END
               ) ORDER BY d.scope, d.version), '[]')
        FROM drifted d) AS drift
"""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Drift:
    """An applied (public) or registered (tenant) migration whose file no longer has the recorded checksum."""

    file: str  # e.g. "tenant/0002_payroll_guards.sql"
    scope: Scope
    version: int
    recorded: str  # sha256 recorded when it was applied or registered
    actual: str  # sha256 of the file now
    schemas: int | None = None  # tenant scope: live tenant schemas at or past this version
    examples: tuple[str, ...] = ()  # the first of them by name, at most DRIFT_EXAMPLES

    def describe(self) -> str:
        if self.scope == "public":
            where = "the public schema"
        else:
            named = ", ".join(self.examples) + (", ..." if (self.schemas or 0) > len(self.examples) else "")
            where = f"{self.schemas} tenant schema(s)" + (f" ({named})" if named else "")
        return f"{self.file} (applied to {where}): recorded checksum {self.recorded[:12]}, file now {self.actual[:12]}"


class ChecksumDrift(Conflict):
    """`up` refused to run: applied migrations were edited. Nothing was applied."""

    def __init__(self, drift: Sequence[Drift]) -> None:
        self.drift = tuple(drift)
        super().__init__(
            "Applied migration(s) changed since they ran; nothing was applied: "
            + "; ".join(d.describe() for d in self.drift)
            + ". Restore the file(s) and put the change in a new migration."
        )


@dataclass(frozen=True)
class MigrationStatus:
    public_version: int
    public_latest: int
    tenant_latest: int
    tenants_total: int
    tenants_behind: int
    checked: int = 0  # recorded migrations compared with their files
    drift: tuple[Drift, ...] = ()

    @property
    def up_to_date(self) -> bool:
        return self.public_version >= self.public_latest and self.tenants_behind == 0 and not self.drift


@dataclass
class MigrationResult:
    public_applied: list[int] = field(default_factory=list)
    tenants_migrated: int = 0
    failures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MigrationSet:
    public: Sequence[Migration]
    tenant: Sequence[Migration]

    @classmethod
    def shipped(cls) -> MigrationSet:
        return cls(migrations("public"), migrations("tenant"))


def _conninfo(conninfo: str | None) -> str:
    """`conninfo` (default: DATABASE_URL, with the user and password of the database secret as every other
    connection to it) and the TLS parameters of the settings (verify-full in AWS)."""
    if conninfo is None:
        return make_conninfo(settings().database_url, **postgres.credentials(), **settings().pg_tls)
    return make_conninfo(conninfo, **settings().pg_tls)


def status(conninfo: str | None = None, mset: MigrationSet | None = None, *, cell: str = "default") -> MigrationStatus:
    mset = mset or MigrationSet.shipped()
    with psycopg.connect(_conninfo(conninfo), row_factory=dict_row) as conn:
        state = _read_state(conn, mset, cell)
    return MigrationStatus(
        public_version=state["public_version"],
        public_latest=len(mset.public),
        tenant_latest=len(mset.tenant),
        tenants_total=state["tenants_total"],
        tenants_behind=state["tenants_behind"],
        checked=state["checked"],
        drift=_drift(state["drift"]),
    )


def up(
    conninfo: str | None = None,
    *,
    mset: MigrationSet | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    cell: str = "default",
) -> MigrationResult:
    """Bring the public schema and every tenant schema to the latest version; `ChecksumDrift` (and nothing
    applied) if an applied migration's file changed."""
    mset = mset or MigrationSet.shipped()
    conninfo = _conninfo(conninfo)
    result = MigrationResult()
    with psycopg.connect(conninfo, row_factory=dict_row, autocommit=True) as lock_conn:
        if not lock_conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_LOCK_KEY,)).fetchone()["ok"]:  # type: ignore[index]
            raise Conflict("Another migration run is in progress.")
        try:
            state = _read_state(lock_conn, mset, cell)
            if state["drift"]:
                raise ChecksumDrift(_drift(state["drift"]))
            if state["public_version"] < len(mset.public):
                result.public_applied = _apply_public(lock_conn, mset.public, state["public_version"])
            if state["tenant_registered"] < len(mset.tenant):
                _register_tenant_migrations(lock_conn, mset.tenant)
            if state["tenants_behind"]:
                _migrate_tenants(conninfo, lock_conn, mset.tenant, workers, progress, result, cell)
        finally:
            lock_conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    from hrms.db.tenant_collection import ensure_indexes

    ensure_indexes()  # MongoDB indexes (all lead with tenantId); idempotent, cheap when they exist
    return result


def _read_state(conn: psycopg.Connection[Any], mset: MigrationSet, cell: str = "default") -> dict[str, Any]:
    """The whole no-op check, drift included, in one query; bootstraps the bookkeeping table on a fresh database."""
    shipped = [*mset.public, *mset.tenant]
    params = {
        "latest": len(mset.tenant),
        "scopes": [m.scope for m in shipped],
        "versions": [m.version for m in shipped],
        "files": [m.file for m in shipped],
        "checksums": [m.checksum for m in shipped],
        "examples": DRIFT_EXAMPLES,
        "cell": cell,
    }
    try:
        with conn.transaction():
            return conn.execute(_STATE, params).fetchone()  # type: ignore[return-value]
    except psycopg.errors.UndefinedTable:
        with conn.transaction():
            conn.execute(_BOOTSTRAP)
            public = conn.execute(
                "SELECT coalesce(max(version), 0) AS v FROM public.schema_migrations WHERE scope = 'public'"
            ).fetchone()
        return {  # a fresh database: nothing registered yet, so nothing to compare
            "public_version": public["v"],  # type: ignore[index]
            "tenant_registered": 0,
            "tenants_total": 0,
            "tenants_behind": 0,
            "checked": 0,
            "drift": [],
        }


def _drift(rows: list[dict[str, Any]]) -> tuple[Drift, ...]:
    return tuple(Drift(**{**row, "examples": tuple(row["examples"])}) for row in rows)


def _apply_public(conn: psycopg.Connection[Any], public: Sequence[Migration], current: int) -> list[int]:
    applied = []
    for migration in public[current:]:
        with conn.transaction():
            conn.execute(migration.statement())
            _record(conn, migration)
        applied.append(migration.version)
    return applied


def _register_tenant_migrations(conn: psycopg.Connection[Any], tenant: Sequence[Migration]) -> None:
    with conn.transaction():
        for migration in tenant:
            _record(conn, migration)


def _record(conn: psycopg.Connection[Any], migration: Migration) -> None:
    conn.execute(
        "INSERT INTO public.schema_migrations (scope, version, name, checksum) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (scope, version) DO NOTHING",
        (migration.scope, migration.version, migration.name, migration.checksum),
    )


def _migrate_tenants(
    conninfo: str,
    conn: psycopg.Connection[Any],
    tenant: Sequence[Migration],
    workers: int | None,
    progress: Progress | None,
    result: MigrationResult,
    cell: str = "default",
) -> None:
    behind = conn.execute(
        "SELECT id, schema_name FROM public.tenants t WHERE status <> 'deleted' AND schema_version < %s"
        " AND coalesce(to_jsonb(t) ->> 'cell', 'default') = %s ORDER BY created_at",
        (len(tenant), cell),
    ).fetchall()
    workers = min(workers or settings().migration_workers, len(behind))
    done = 0
    with (
        ConnectionPool(
            conninfo,
            connection_class=postgres.PooledConn,
            min_size=workers,
            max_size=workers,
            kwargs={"row_factory": dict_row},
        ) as pool,
        ThreadPoolExecutor(max_workers=workers) as executor,
    ):
        futures = {executor.submit(_migrate_one, pool, row["id"], tenant): row["schema_name"] for row in behind}
        for future in as_completed(futures):
            error = future.exception()
            if error is None:
                result.tenants_migrated += 1
            else:
                result.failures[futures[future]] = (str(error).strip().splitlines() or [type(error).__name__])[0]
            done += 1
            if progress:
                progress(done, len(behind))


def _migrate_one(pool: ConnectionPool[postgres.PooledConn], tenant_id: Any, tenant: Sequence[Migration]) -> None:
    """One schema, one transaction: the tenant row is locked so creates and runs cannot interleave."""
    with pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "SELECT schema_name, schema_version FROM public.tenants WHERE id = %s FOR UPDATE", (tenant_id,)
        ).fetchone()
        for migration in tenant[row["schema_version"] :]:  # type: ignore[index]
            conn.execute(migration.statement(row["schema_name"]))  # type: ignore[index]
        conn.execute("UPDATE public.tenants SET schema_version = %s WHERE id = %s", (len(tenant), tenant_id))


@dataclass
class CellsResult:
    """A run over every cell: each cell's result, and the cells that could not run or stopped (why)."""

    cells: dict[str, MigrationResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def failures(self) -> dict[str, str]:
        """'<cell>' (the cell's run failed) or '<cell>/<schema>' (one tenant schema failed) -> the error."""
        found = dict(self.errors)
        for cell, result in self.cells.items():
            found.update({f"{cell}/{schema}": error for schema, error in result.failures.items()})
        return found


def up_cells(*, workers: int | None = None, mset: MigrationSet | None = None) -> CellsResult:
    """`up` on every configured cell at once, each with its own lock, connections and resumable progress: a
    cell that fails (down, drift, a schema) leaves the others migrated and is named in the result."""
    from hrms.db import cells

    names = list(cells.configured())
    outcome = CellsResult()
    with ThreadPoolExecutor(max_workers=len(names)) as executor:
        futures = {
            executor.submit(up, cell_conninfo(name), mset=mset, workers=workers, cell=name): name for name in names
        }
        for future in as_completed(futures):
            name = futures[future]
            try:
                outcome.cells[name] = future.result()
            except (psycopg.Error, Conflict, ChecksumDrift) as exc:
                outcome.errors[name] = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return outcome


def cell_conninfo(name: str) -> str:
    """The connection string of a cell's database (credentials from its secret, TLS from the settings)."""
    from hrms.db import cells

    return make_conninfo(cells.cell(name).url, **postgres.credentials(name), **settings().pg_tls)


def status_cells(mset: MigrationSet | None = None) -> dict[str, MigrationStatus | str]:
    """`status` of every configured cell (a cell that cannot be read: why, instead)."""
    from hrms.db import cells

    found: dict[str, MigrationStatus | str] = {}
    for name in cells.configured():
        try:
            found[name] = status(cell_conninfo(name), mset, cell=name)
        except psycopg.Error as exc:
            found[name] = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return found
