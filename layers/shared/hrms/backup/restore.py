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

Both parts, as one operation (backups taken before backups had a MongoDB part restore PostgreSQL only):

- One tenant, over the live database: the tenant's writes are frozen first (a `public.tenant_write_freezes`
  row: admission answers writes 503 with Retry-After; reads go on, and wait for the few seconds the
  PostgreSQL transaction holds the schema's locks), then the restore waits for every transaction that wrote
  to the tenant before the freeze to end, and the database refuses any later write (hrms.db.write_guard;
  the restore's own transaction writes through it). The safety backup (both parts) is taken, and the
  MongoDB part is touched only `MONGO_GRACE_S` after the freeze: no lock covers a document write of a
  request admitted just before it. The MongoDB part is loaded into staging
  collections and the tenant's current documents copied aside (`mongo_part`); nothing live has
  changed yet. Then psql replays the dump in one transaction whose last statement marks the freeze
  row `pg_restored`; once psql has run everything but the COMMIT, the tenant's live documents are
  replaced from staging, and only then is the COMMIT sent. A failure before the COMMIT (the swap, psql)
  puts the tenant's documents back from the copy and PostgreSQL rolls back: the tenant is as it was.
  The freeze row is the journal: if this process dies, `recover` (`hrms backup recover`) finishes from
  it: PostgreSQL committed (`pg_restored`, set in the same transaction) -> replace the documents from
  the staged backup again; not committed but the swap may have begun (phase `swapping`) -> put them
  back from the copy; earlier -> only drop the staging collections. Then the freeze is lifted. If the
  roll-back itself cannot run (MongoDB down), the tenant stays frozen until `recover` succeeds.
- One tenant into a target: the same, without freeze and safety backup, in the target's MongoDB
  database (`mongo_part.target_database`: `<live database>_<target>` on the same server).
- Full, over the live database (of the backup's own cell): the whole MongoDB part is staged into new
  collections (with indexes); once psql has run everything but the COMMIT, each live collection is renamed
  aside and its staged twin renamed in; on a failure they are renamed back. No write freeze (every tenant of
  the cell is replaced). With other cells configured, only the cell's documents are replaced instead, from
  the staged ones, and put back from a copy on a failure (`cell_scope.for_restore`, `mongo_part.swap_in`):
  another cell's tenants' documents are never touched.
- Full, into a target: the target's MongoDB database is replaced (statement by statement, a copy).
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.conninfo import make_conninfo

from hrms.backup import cell_scope, dump, keys, load, mongo_part, pgtools, repo, validate
from hrms.backup.common import Progress, RestoreFailed, no_progress
from hrms.backup.models import RestoreResult
from hrms.db import cells, write_guard
from hrms.errors import Conflict, DomainError, Invalid
from hrms.migrations.files import migrations
from hrms.observability import logger

LOCK_TIMEOUT = "60s"  # the drop waits this long for running requests, then the restore fails unchanged
MONGO_GRACE_S = 2.0  # after a freeze: for the document writes of requests admitted just before to finish
REASON = "restore"
RECOVER_AFTER_S = 900.0  # a restore idle this long is dead (15 min: the longest a Lambda runs)


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
    if target is None and parsed.schema_name is not None:
        db = pgtools.live_of_schema(parsed.schema_name)  # the tenant's cell, where its requests go
    elif target is None:
        db = pgtools.live_cell(parsed.cell or cells.DEFAULT)  # a full backup: its own cell's (422 if unknown here)
    else:
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
    restored = RestoreResult(key=key, kind=parsed.kind, target=db.name, cell=db.cell, **result)
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
    live = db.name == "live"
    operation = secrets.token_hex(8)
    with db.connect() as conn:
        state = repo.schema_state(conn, schema, deleted_too=True)
        if state is None:
            raise Invalid(f"No tenant of {db.describe()} has the schema {schema}; restore a full backup there first.")
        tenant_id = repo.tenant_id_of_schema(conn, schema)
        assert tenant_id is not None
        if verified.tenant_id and verified.tenant_id != str(tenant_id):
            raise Invalid(f"The backup is of tenant {verified.tenant_id}; {db.describe()} gives {schema} to another.")
        has_epochs = state.present and repo.has_table(conn, schema, "cache_epochs")
        prelude: list[sql.Composable] = [write_guard.bypass(operation)]
        prelude += repo.schema_restore_prelude(schema, keep_epochs=has_epochs, timeout=LOCK_TIMEOUT)
        postlude: list[sql.Composable] = [m.statement(schema) for m in migrations("tenant")[backup_version:]]
        postlude += repo.schema_restore_postlude(schema, latest)
        if live:
            postlude.append(repo.pg_restored_marker(operation))
        prelude_sql, postlude_sql = repo.script(conn, prelude), repo.script(conn, postlude)
    mongo_db = mongo_part.target_database(None if live else db.name)
    journal = _Journal(operation, tenant_id, mongo_db, db if live else None)
    if live:
        journal.freeze(verified)
    try:
        safety = None
        if live:
            frozen_at = time.monotonic()
            _drain_writes(db, schema)
            if state.present:
                relabelled = _relabel(progress, "safety backup")
                safety = dump.backup_schema(schema, reason="pre-restore", progress=relabelled).key
            time.sleep(max(0.0, frozen_at + MONGO_GRACE_S - time.monotonic()))
        mongo_counts = _restore_tenant_parts(db, verified, journal, prelude_sql, postlude_sql, safety, progress)
    except BaseException:
        journal.after_failure()
        raise
    if live:
        _keep_files(journal)  # still frozen: nothing races the documents' new pins
    journal.done()
    if live:
        _forget_cached(schema)
    with db.connect() as conn:
        counts = repo.row_counts(conn, [schema])
    return {
        "restored_schemas": [schema],
        "row_counts": counts,
        "safety_backup_key": safety,
        "schema_version": latest,
        "mongo_counts": mongo_counts,
    }


def _drain_writes(db: pgtools.Database, schema: str) -> None:
    with db.connect() as conn:
        try:
            write_guard.drain(conn, schema)
        except write_guard.DrainTimeout as exc:
            raise Conflict(f"The tenant's writes did not end; nothing was restored, try again ({exc}).") from exc


def _restore_tenant_parts(
    db: pgtools.Database,
    verified: validate.Verified,
    journal: _Journal,
    prelude: str,
    postlude: str,
    safety: str | None,
    progress: Progress,
) -> dict[str, int] | None:
    """Stage the MongoDB part, then the dump in one transaction with the documents swapped in before COMMIT."""
    if verified.mongo is None:  # a backup from before backups had a MongoDB part
        journal.record("restoring", safety)
        load.load(db, verified.info, prelude=prelude, postlude=postlude, progress=progress)
        return None
    journal.record("staging", safety)
    mongo_part.stage(verified.mongo, verified.mongo_check(), journal.mongo_db, journal.operation, progress)
    mongo_part.keep_current(journal.mongo_db, str(journal.tenant_id), journal.operation)
    journal.record("swapping")  # from here a failure puts the tenant's documents back

    def swap() -> None:
        journal.swapped = True
        journal.counts = _replace(journal, "new")

    load.load(db, verified.info, prelude=prelude, postlude=postlude, progress=progress, before_commit=swap)
    return journal.counts


def _keep_files(journal: _Journal) -> None:
    """Restored documents pinned to superseded file versions get them back as current versions (best
    effort, after the commit: the restore stands either way; see `mongo_part.promote_versions`)."""
    try:
        promoted = mongo_part.promote_versions(journal.mongo_db, str(journal.tenant_id))
        logger.info("Restored documents' files kept current", extra={"promoted": promoted})
    except Exception:
        logger.warning("Could not promote restored documents' file versions", exc_info=True)


def _replace(journal: _Journal, side: str) -> dict[str, int]:
    from pymongo.errors import BulkWriteError

    try:
        return mongo_part.replace(journal.mongo_db, str(journal.tenant_id), journal.operation, side)
    except BulkWriteError as exc:
        raise Conflict(
            "MongoDB refused the tenant's documents: a document of the backup has the id of another tenant's;"
            " nothing was changed."
        ) from exc


class _Journal:
    """One tenant restore's freeze row and staging collections (see the module docstring)."""

    def __init__(self, operation: str, tenant_id: UUID, mongo_db: str, live: pgtools.Database | None) -> None:
        self.operation = operation
        self.tenant_id = tenant_id
        self.mongo_db = mongo_db
        self.live = live  # the live database of the tenant's cell, which holds the freeze; None for a target
        self.swapped = False
        self.counts: dict[str, int] | None = None

    def freeze(self, verified: validate.Verified) -> None:
        size = verified.info.size + (verified.mongo.size if verified.mongo else 0)
        assert self.live is not None
        with self.live.connect() as conn:
            started = repo.start_freeze(
                conn,
                self.tenant_id,
                self.operation,
                reason=REASON,
                retry_after_s=min(300, 5 + size // 5_000_000),
                backup_key=verified.parsed.key,
                mongo_database=self.mongo_db,
            )
        if not started:
            raise Conflict(
                "This tenant is being restored already; wait for it to finish (or, if it died, `hrms backup recover`)."
            )

    def record(self, phase: str, safety: str | None = None) -> None:
        if self.live:
            with self.live.connect() as conn:
                repo.update_freeze(conn, self.operation, phase=phase, safety_backup_key=safety)

    def pg_committed(self) -> bool:
        if not self.live:
            return False
        with self.live.connect() as conn:
            found = repo.freeze_of(conn, self.operation)
        return bool(found and found.pg_restored)

    def done(self) -> None:
        self._clean()

    def after_failure(self) -> None:
        """Put the tenant's documents back (or forward, had PostgreSQL committed after all), then clean up;
        if that cannot run, the tenant stays frozen for `recover`."""
        try:
            if self.swapped:
                self.counts = _replace(self, "new" if self.pg_committed() else "old")
            self._clean()
        except Exception:
            logger.exception(
                "A failed restore could not be settled; the tenant stays frozen until `hrms backup recover`",
                extra={"operation": self.operation, "tenant_id": str(self.tenant_id)},
            )

    def _clean(self) -> None:
        mongo_part.drop_staging(self.mongo_db, self.operation)
        if self.live:
            with self.live.connect() as conn:
                repo.end_freeze(conn, self.operation)


def recover(*, older_than_s: float = RECOVER_AFTER_S) -> list[dict[str, Any]]:
    """Finish every tenant restore that died midway (idle longer than `older_than_s`), from its journal:
    PostgreSQL committed -> the backup's documents (re)placed; swap begun -> the tenant's own put back;
    earlier -> nothing to undo. Staging collections are dropped and the freeze lifted. What was done, per
    restore; a restore that cannot be settled yet (MongoDB down, its cell down) raises and stays frozen.
    Every cell: each keeps the freezes of the tenants it holds."""
    pending = []
    for cell in cells.configured():
        live = pgtools.live(cell)
        with live.connect() as conn:
            pending += [(live, f) for f in repo.freezes(conn, REASON) if f.idle_s >= older_than_s]
    done: list[dict[str, Any]] = []
    for live, found in pending:
        journal = _Journal(found.operation_id, found.tenant_id, found.mongo_database or "", live)
        action = "released"
        if found.pg_restored:
            action = "rolled forward"
            _replace(journal, "new")
            _keep_files(journal)
        elif found.phase == "swapping":
            action = "rolled back"
            _replace(journal, "old")
        journal.done()
        _forget_cached(found.schema_name)
        done.append({"operation": found.operation_id, "schema": found.schema_name, "action": action})
        logger.info("Restore recovered", extra=done[-1])
    return done


def _restore_full(db: pgtools.Database, verified: validate.Verified, progress: Progress) -> dict[str, Any]:
    live = db.name == "live"
    safety = None
    mongo_db = mongo_part.target_database(None if live else db.name)
    mongo_counts = None
    if live:  # all or nothing: the application runs on it
        relabelled = _relabel(progress, "safety backup")
        safety = dump.backup_full(cell=db.cell or cells.DEFAULT, reason="pre-restore", progress=relabelled).key
        prelude, postlude = repo.full_restore_prelude(LOCK_TIMEOUT), repo.BUMP_ALL_EPOCHS
    else:  # a target is a copy: statement by statement, so any number of tenants fits the lock table
        prelude, postlude = _drop_schemas_one_by_one(db), ""
    if verified.mongo is None:
        load.load(db, verified.info, prelude=prelude, postlude=postlude, progress=progress, atomic=live)
    elif live:
        mongo_counts = _restore_full_live(db, verified, mongo_db, prelude, postlude, progress)
    else:
        load.load(db, verified.info, prelude=prelude, postlude=postlude, progress=progress, atomic=False)
        mongo_counts = mongo_part.replace_database(verified.mongo, verified.mongo_check(), mongo_db, progress)
    from hrms.migrations import runner

    runner.up(make_conninfo(db.conninfo, password=db.password))  # an older backup: bring it to this code's version
    with db.connect() as conn:
        schemas = repo.restored_schemas(conn)
        counts = repo.row_counts(conn, schemas)
    if live:
        _forget_cached(None)
    return {
        "restored_schemas": schemas,
        "row_counts": counts,
        "safety_backup_key": safety,
        "mongo_counts": mongo_counts,
    }


def _restore_full_live(
    db: pgtools.Database, verified: validate.Verified, mongo_db: str, prelude: str, postlude: str, progress: Progress
) -> dict[str, int]:
    """Whole collections staged, swapped in by renames just before the COMMIT, swapped back on failure (the
    cell's documents replaced, and put back, when other cells are configured: `mongo_part.swap_in`)."""
    assert verified.mongo is not None
    operation = secrets.token_hex(8)
    scope = cell_scope.for_restore(db.cell or cells.DEFAULT)
    swapped = False

    def swap() -> None:
        nonlocal swapped
        swapped = True
        mongo_part.swap_in(mongo_db, scope, operation)

    try:
        mongo_part.stage(verified.mongo, verified.mongo_check(), mongo_db, operation, progress)
        mongo_part.prepare_full(mongo_db, scope, operation)
        load.load(db, verified.info, prelude=prelude, postlude=postlude, progress=progress, before_commit=swap)
    except BaseException:
        if swapped:
            try:
                mongo_part.swap_back(mongo_db, scope, operation)
            except DomainError:
                logger.exception("Could not swap the MongoDB collections back", extra={"operation": operation})
                raise RestoreFailed(
                    f"The full restore failed and MongoDB's collections could not be swapped back: the previous"
                    f" ones are kept as {mongo_part.STAGING}{operation}_old_<collection>."
                ) from None
        mongo_part.drop_staging(mongo_db, operation)
        raise
    mongo_part.drop_staging(mongo_db, operation)
    return mongo_part.counts_in(mongo_db, scope)


def _drop_schemas_one_by_one(db: pgtools.Database) -> str:
    """Statements emptying a target database: each schema dropped in its own transaction."""
    with db.connect() as conn:
        return repo.script(conn, repo.drop_schemas(repo.user_schemas(conn)))


def _relabel(progress: Progress, phase: str) -> Progress:
    return lambda _phase, done, total: progress(phase, done, total)


def _forget_cached(schema: str | None) -> None:
    """Drop the tenant's Redis keys, or every tenant's for None (best effort: the epochs already moved on)."""
    try:
        from hrms.cache import admin
        from hrms.db.postgres import transaction

        if schema is None:
            admin.flush_all()
            return
        with transaction() as conn:
            tenant_id = repo.tenant_id_of_schema(conn, schema)
        if tenant_id:
            admin.flush_tenant(tenant_id)
    except Exception:
        logger.warning("Could not drop cached keys after a restore", extra={"schema": schema}, exc_info=True)
