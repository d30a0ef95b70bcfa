"""Restoring a backup: a full one (the whole database), or one tenant schema, into the live database
or a named target (RESTORE_TARGETS, e.g. staging).

Always, in this order: the backup is validated (sha256, gzip, trailer; a damaged backup is refused
before anything changes); over the live database a safety backup of what is about to be replaced is
taken; then the drop and re-creation run as ONE psql transaction that only commits once the whole
object has been streamed and re-checked (see `load`).

- Schema restore: drops and recreates only that schema; other schemas and `public.*` are untouched,
  except that the tenant's `schema_version` is set if the restored schema had to be migrated (an
  older backup is brought to the current version by the tenant migrations, in the same transaction).
- Full restore: every schema of the target is dropped and the dump replays the whole database; then
  the migration runner brings it to the current version. Over the live database this is one
  transaction too, which needs a lock table large enough for every relation (see `load`); into a
  target (a copy) it runs statement by statement, so any number of tenants fits.
- Both keep the Redis read models honest: a restored `cache_epochs` row would go back in time and
  re-validate stale cached values, so every epoch is set past its pre-restore value.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg import sql
from psycopg.conninfo import make_conninfo

from hrms.backup import dump, keys, load, pgtools, validate
from hrms.backup.common import Progress, no_progress
from hrms.backup.models import RestoreResult
from hrms.errors import Invalid
from hrms.migrations.files import migrations
from hrms.observability import logger

LOCK_TIMEOUT = "60s"  # the drop waits this long for running requests, then the restore fails unchanged

_DROP_ALL_SCHEMAS = """
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

_BUMP_ALL_EPOCHS = """
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


def restore_backup(
    key: str,
    *,
    tenant_schema: str | None = None,
    target: str | None = None,
    progress: Progress = no_progress,
) -> RestoreResult:
    """Restore `key` into the live database (target None) or a named target.

    `tenant_schema` is the schema of the tenant the caller named, if any: it must be the backup's.
    """
    started = time.monotonic()
    parsed = keys.parse_or_invalid(key)
    if parsed.kind == "full" and tenant_schema is not None:
        raise Invalid("A full backup restores the whole database; name no tenant.")
    if parsed.kind == "schema" and tenant_schema is not None and tenant_schema != parsed.schema_name:
        raise Invalid(
            f"The backup is of schema {parsed.schema_name}, not of this tenant's schema {tenant_schema}.",
            errors=[{"field": "tenantId", "type": "schema_mismatch", "message": "the backup is of another tenant"}],
        )
    db = pgtools.target(target)
    verified = validate.verify(key, progress=progress)
    if not verified.valid:
        raise Invalid(
            f"The backup failed validation, nothing was changed: {'; '.join(verified.problems)}.",
            checks=verified.checks,
        )
    if parsed.kind == "schema":
        assert parsed.schema_name is not None
        result = _restore_schema(db, verified, parsed.schema_name, progress)
    else:
        result = _restore_full(db, verified, progress)
    result["duration_ms"] = int((time.monotonic() - started) * 1000)
    restored = RestoreResult(key=key, kind=parsed.kind, target=db.name, **result)
    logger.info(
        "Backup restored",
        extra={"key": key, "target": db.name, "schemas": len(restored.restored_schemas), "ms": restored.duration_ms},
    )
    return restored


def _restore_schema(
    db: pgtools.Database, verified: validate.Verified, schema: str, progress: Progress
) -> dict[str, Any]:
    schema_version = verified.info.metadata.get("schema-version", "")
    if not schema_version.isdigit():
        raise Invalid("The backup does not record its tenant schema version; it cannot be restored safely.")
    backup_version, latest = int(schema_version), len(migrations("tenant"))
    if backup_version > latest:
        raise Invalid(f"The backup is at tenant schema version {backup_version}, newer than this code ({latest}).")
    with db.connect() as conn:
        row = conn.execute(
            "SELECT t.schema_version, n.oid IS NOT NULL AS present FROM public.tenants t"
            " LEFT JOIN pg_namespace n ON n.nspname = t.schema_name WHERE t.schema_name = %s",
            (schema,),
        ).fetchone()
        if row is None:
            raise Invalid(f"No tenant of {db.describe()} has the schema {schema}; restore a full backup there first.")
        has_epochs = row["present"] and _has_table(conn, schema, "cache_epochs")
        ident = sql.Identifier(schema)
        prelude: list[sql.Composable] = [sql.SQL("SET lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT))]
        prelude.append(sql.SQL("CREATE TEMP TABLE hrms_restore_epochs (name text, epoch bigint) ON COMMIT DROP"))
        if has_epochs:
            epochs = sql.Identifier(schema, "cache_epochs")
            prelude.append(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(epochs))
            prelude.append(sql.SQL("INSERT INTO pg_temp.hrms_restore_epochs SELECT name, epoch FROM {}").format(epochs))
        prelude.append(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident))
        postlude: list[sql.Composable] = [m.statement(schema) for m in migrations("tenant")[backup_version:]]
        postlude.append(
            sql.SQL(
                "INSERT INTO {} AS e (name, epoch) SELECT name, epoch + 1 FROM pg_temp.hrms_restore_epochs"
                " ON CONFLICT (name) DO UPDATE SET epoch = GREATEST(e.epoch, EXCLUDED.epoch)"
            ).format(sql.Identifier(schema, "cache_epochs"))
        )
        postlude.append(
            sql.SQL(
                "UPDATE public.tenants SET schema_version = {v}, updated_at = now()"
                " WHERE schema_name = {s} AND schema_version <> {v}"
            ).format(v=sql.Literal(latest), s=sql.Literal(schema))
        )
        prelude_sql, postlude_sql = _script(conn, prelude), _script(conn, postlude)
    safety = None
    if db.name == "live" and row["present"]:
        safety = dump.backup_schema(schema, reason="pre-restore", progress=_relabel(progress, "safety backup")).key
    load.load(db, verified.info, prelude=prelude_sql, postlude=postlude_sql, progress=progress)
    if db.name == "live":
        _forget_cached(schema)
    with db.connect() as conn:
        counts = row_counts(conn, [schema])
    return {
        "restored_schemas": [schema],
        "row_counts": counts,
        "safety_backup_key": safety,
        "schema_version": latest,
    }


def _restore_full(db: pgtools.Database, verified: validate.Verified, progress: Progress) -> dict[str, Any]:
    live = db.name == "live"
    safety = None
    if live:  # all or nothing: the application runs on it
        safety = dump.backup_full(reason="pre-restore", progress=_relabel(progress, "safety backup")).key
        prelude, postlude = f"SET lock_timeout = '{LOCK_TIMEOUT}';\n{_DROP_ALL_SCHEMAS}", _BUMP_ALL_EPOCHS
    else:  # a target is a copy: statement by statement, so any number of tenants fits the lock table
        prelude, postlude = _drop_schemas_one_by_one(db), ""
    load.load(db, verified.info, prelude=prelude, postlude=postlude, progress=progress, atomic=live)
    from hrms.migrations import runner

    runner.up(make_conninfo(db.conninfo, password=db.password))  # an older backup: bring it to this code's version
    with db.connect() as conn:
        schemas = [
            r["nspname"]
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = 'public' OR nspname ~ '^tenant_' ORDER BY nspname"
            ).fetchall()
        ]
        counts = row_counts(conn, schemas)
    if live:
        _forget_cached(None)
    return {"restored_schemas": schemas, "row_counts": counts, "safety_backup_key": safety}


def _drop_schemas_one_by_one(db: pgtools.Database) -> str:
    """Statements emptying a target database: each schema dropped in its own transaction."""
    with db.connect() as conn:
        names = [
            r["nspname"]
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace"
                " WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'"
            ).fetchall()
        ]
        statements: list[sql.Composable] = [sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(n)) for n in names]
        statements += [
            sql.SQL("DROP SCHEMA public CASCADE"),
            sql.SQL("CREATE SCHEMA public"),
            sql.SQL("GRANT USAGE ON SCHEMA public TO PUBLIC"),
        ]
        return _script(conn, statements)


def row_counts(conn: Any, schemas: list[str]) -> dict[str, int]:
    """Exact rows of every table of `schemas`, as {"schema.table": n}."""
    tables = conn.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2", (schemas,)
    ).fetchall()
    counts: dict[str, int] = {}
    for start in range(0, len(tables), 200):
        batch = tables[start : start + 200]
        parts = [
            sql.SQL("SELECT {} AS name, count(*) AS n FROM {}").format(
                sql.Literal(f"{t['schemaname']}.{t['tablename']}"), sql.Identifier(t["schemaname"], t["tablename"])
            )
            for t in batch
        ]
        for row in conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall():
            counts[row["name"]] = int(row["n"])
    return counts


def _has_table(conn: Any, schema: str, table: str) -> bool:
    row = conn.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL AS found", (schema, table)
    ).fetchone()
    return bool(row and row["found"])


def _script(conn: Any, statements: list[sql.Composable]) -> str:
    return "".join(f"{statement.as_string(conn)};\n" for statement in statements)


def _relabel(progress: Progress, phase: str) -> Progress:
    return lambda _phase, done, total: progress(phase, done, total)


def _forget_cached(schema: str | None) -> None:
    """Drop the tenant's Redis keys, or every tenant's for None (best effort: the epochs already moved on)."""
    try:
        from hrms.cache import store
        from hrms.db.postgres import transaction

        if schema is None:
            store.delete_matching("*:{*}:*")  # every tenant-scoped key: `<namespace>:{<tenantId>}:...`
            return
        with transaction() as conn:
            row = conn.execute("SELECT id FROM public.tenants WHERE schema_name = %s", (schema,)).fetchone()
        if row:
            store.delete_matching(f"*:{{{row['id']}}}:*")
    except Exception:
        logger.warning("Could not drop cached keys after a restore", extra={"schema": schema}, exc_info=True)
