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

from hrms.backup import dump, keys, load, pgtools, repo, validate
from hrms.backup.common import Progress, no_progress
from hrms.backup.models import RestoreResult
from hrms.errors import Invalid
from hrms.migrations.files import migrations
from hrms.observability import logger

LOCK_TIMEOUT = "60s"  # the drop waits this long for running requests, then the restore fails unchanged


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
        state = repo.schema_state(conn, schema, deleted_too=True)
        if state is None:
            raise Invalid(f"No tenant of {db.describe()} has the schema {schema}; restore a full backup there first.")
        has_epochs = state.present and repo.has_table(conn, schema, "cache_epochs")
        prelude = repo.schema_restore_prelude(schema, keep_epochs=has_epochs, timeout=LOCK_TIMEOUT)
        postlude: list[sql.Composable] = [m.statement(schema) for m in migrations("tenant")[backup_version:]]
        postlude += repo.schema_restore_postlude(schema, latest)
        prelude_sql, postlude_sql = repo.script(conn, prelude), repo.script(conn, postlude)
    safety = None
    if db.name == "live" and state.present:
        safety = dump.backup_schema(schema, reason="pre-restore", progress=_relabel(progress, "safety backup")).key
    load.load(db, verified.info, prelude=prelude_sql, postlude=postlude_sql, progress=progress)
    if db.name == "live":
        _forget_cached(schema)
    with db.connect() as conn:
        counts = repo.row_counts(conn, [schema])
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
        prelude, postlude = repo.full_restore_prelude(LOCK_TIMEOUT), repo.BUMP_ALL_EPOCHS
    else:  # a target is a copy: statement by statement, so any number of tenants fits the lock table
        prelude, postlude = _drop_schemas_one_by_one(db), ""
    load.load(db, verified.info, prelude=prelude, postlude=postlude, progress=progress, atomic=live)
    from hrms.migrations import runner

    runner.up(make_conninfo(db.conninfo, password=db.password))  # an older backup: bring it to this code's version
    with db.connect() as conn:
        schemas = repo.restored_schemas(conn)
        counts = repo.row_counts(conn, schemas)
    if live:
        _forget_cached(None)
    return {"restored_schemas": schemas, "row_counts": counts, "safety_backup_key": safety}


def _drop_schemas_one_by_one(db: pgtools.Database) -> str:
    """Statements emptying a target database: each schema dropped in its own transaction."""
    with db.connect() as conn:
        return repo.script(conn, repo.drop_schemas(repo.user_schemas(conn)))


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
            tenant_id = repo.tenant_id_of_schema(conn, schema)
        if tenant_id:
            store.delete_matching(f"*:{{{tenant_id}}}:*")
    except Exception:
        logger.warning("Could not drop cached keys after a restore", extra={"schema": schema}, exc_info=True)
