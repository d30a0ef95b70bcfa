"""Taking backups: the MongoDB part (`mongo_part`), then `pg_dump` (plain SQL) -> gzip -> S3 multipart,
both streamed through bounded buffers, both under one backup id.

Nothing touches the disk and memory does not grow with the database: pg_dump's stdout is read in
1 MiB chunks, compressed, hashed and cut into multipart parts, a couple of parts in flight.

Order: the MongoDB part is streamed to a temporary object first, then the dump; only when both are
complete is the MongoDB part published at `keys.mongo_key(key)` and then the dump at `key`, with the
MongoDB part's sha256, size and per-collection counts in the dump's metadata. The dump's object is
the backup (listing, validation and restore start from it); a failure before it is published leaves
at most a MongoDB part without its dump, which cleanup removes. The two parts are taken one after the
other, not at one instant: a write between them may be in one part and not the other.

A full backup is of one cell (`hrms.db.cells`): that cell's whole database, and the MongoDB documents that go
with it (`cell_scope.for_backup`); `default` (the control database, with the registry) keeps the key it
always had, another cell's key names it (`keys.full_key`).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from datetime import datetime

import psycopg

from hrms.backup import cell_scope, keys, mongo_part, pgtools, repo, storage
from hrms.backup.common import BackupFailed, Clock, Progress, no_progress, utc_now
from hrms.backup.models import BackupInfo, MongoPartInfo
from hrms.config import settings
from hrms.db import cells
from hrms.errors import NotFound
from hrms.observability import logger
from hrms.tenancy import checked_schema_name

CHUNK = 1 << 20
LOCK_WAIT_MS = 60_000  # pg_dump gives up instead of queueing behind a long lock (e.g. a running restore)
FORMAT = "plain"


def backup_full(
    *,
    cell: str = cells.DEFAULT,
    reason: str = "manual",
    progress: Progress = no_progress,
    deadline: float | None = None,
    clock: Clock = utc_now,
) -> BackupInfo:
    """A cell's whole database (for `default`, the control database: the registry and its tenant schemas) at
    `keys.full_key` (`backups/YYYY/M/...`, or `backups/cells/<cell>/YYYY/M/...`), with the cell's documents;
    422 for a cell not configured here."""
    db = pgtools.live_cell(keys.checked_cell(cell))
    with db.connect() as conn:
        srv = pgtools.server(conn)
        public_version = repo.public_version(conn)
    scope = cell_scope.for_backup(cell)
    created = keys.at_millis(clock())
    extra = {"public-version": str(public_version), "cell": cell}
    key = keys.full_key(created, cell)
    return _dump(db, srv, key, created, "full", None, None, extra, [], reason, progress, deadline, scope=scope)


def backup_schema(
    schema_name: str,
    *,
    reason: str = "manual",
    progress: Progress = no_progress,
    deadline: float | None = None,
    clock: Clock = utc_now,
) -> BackupInfo:
    """One tenant schema at `backups/schemas/<schema>/backup_schema_<ts>.sql.gz` (nothing of public.*), dumped
    from the cell that holds it (recorded in the metadata)."""
    schema = checked_schema_name(schema_name)
    db = pgtools.live_of_schema(schema)
    with db.connect() as conn:
        srv = pgtools.server(conn)
        version = tenant_schema_version(conn, schema)
        tenant_id = repo.tenant_id_of_schema(conn, schema)

    def unchanged() -> None:  # a migration between reading the version and the dump's snapshot
        with db.connect() as conn:
            if tenant_schema_version(conn, schema) != version:
                raise BackupFailed("The schema was migrated while it was being backed up; try again.")

    created = keys.at_millis(clock())
    extra = {"schema-version": str(version), "tenant-id": str(tenant_id), "cell": str(db.cell)}
    # pg_dump patterns: schema names are checked against ^tenant_[a-z0-9_]+_[0-9a-f]{8}$, no wildcards.
    args = [f"--schema={schema}"]
    return _dump(
        db, srv, keys.schema_key(schema, created), created, "schema", schema, str(tenant_id), extra, args, reason,
        progress, deadline, check=unchanged,
    )  # fmt: skip


def tenant_schema_version(conn: psycopg.Connection[psycopg.rows.DictRow], schema: str) -> int:
    """The registry's schema_version of the tenant owning `schema`; 404 if no tenant has it or it is gone."""
    state = repo.schema_state(conn, schema, deleted_too=False)
    if state is None or not state.present:
        raise NotFound(f"No tenant schema '{schema}' to back up.")
    return int(state.schema_version)


def _dump(
    db: pgtools.Database,
    srv: pgtools.Server,
    key: str,
    created: datetime,
    kind: keys.Kind,
    schema: str | None,
    tenant_id: str | None,
    extra: dict[str, str],
    args: list[str],
    reason: str,
    progress: Progress,
    deadline: float | None,
    check: Callable[[], None] | None = None,
    scope: mongo_part.Scope | None = None,
) -> BackupInfo:
    pg_dump = pgtools.tool("pg_dump")
    metadata = {
        "kind": kind,
        "created-at": created.isoformat(),
        "pg-version": srv.version,
        "pg-dump-version": pgtools.require_at_least(pg_dump, srv),
        "format": FORMAT,
        "reason": reason,
        **({"schema": schema} if schema else {}),
        **extra,
    }
    command = [
        pg_dump,
        f"--format={FORMAT}",
        "--no-owner",
        "--no-privileges",
        f"--lock-wait-timeout={LOCK_WAIT_MS}",
        f"--dbname={db.conninfo}",
        *args,
    ]
    started = time.monotonic()
    mongo_meta = {"kind": kind, "part": "mongo", "created-at": metadata["created-at"], "reason": reason}
    mongo_meta.update({"schema": schema, "tenant-id": str(tenant_id)} if schema else {})
    mongo_meta.update({"cell": extra["cell"]} if "cell" in extra else {})
    if scope is not None:
        mongo_meta["scope"] = scope.describe()
    part = mongo_part.dump(tenant_id, mongo_meta, progress=progress, deadline=deadline, scope=scope)
    try:
        sha256, size, dumped, incoming, version_id = _pg_dump(command, db, metadata, progress, deadline, check)
    except BaseException:
        storage.delete_incoming(part.incoming, part.version_id)
        raise
    mongo_meta.update({"format": mongo_part.FORMAT, "sha256": part.sha256, "size": str(part.size)})
    mongo_meta["counts"] = keys.format_counts(part.counts)
    try:
        storage.publish(part.incoming, part.version_id, keys.mongo_key(key), mongo_meta, part.size)
    except BaseException:
        storage.delete_incoming(incoming, version_id)
        raise
    metadata.update({"sha256": sha256, "size": str(size), "dump-bytes": str(dumped)})
    metadata.update(
        {
            "mongo-format": mongo_part.FORMAT,
            "mongo-sha256": part.sha256,
            "mongo-size": str(part.size),
            "mongo-counts": keys.format_counts(part.counts),
        }
    )
    storage.publish(incoming, version_id, key, metadata, size)
    logger.info(
        "Backup published",
        extra={
            "key": key,
            "kind": kind,
            "size": size,
            "dump_bytes": dumped,
            "mongo_size": part.size,
            "mongo_documents": part.documents,
            "seconds": time.monotonic() - started,
        },
    )
    return BackupInfo(
        key=key,
        kind=kind,
        schema_name=schema,
        cell=extra.get("cell"),
        size_bytes=size,
        sha256=sha256,
        created_at=created,
        server_version=srv.version,
        reason=reason,
        mongo=MongoPartInfo(key=keys.mongo_key(key), size_bytes=part.size, sha256=part.sha256, counts=part.counts),
    )


def _pg_dump(
    command: list[str],
    db: pgtools.Database,
    metadata: dict[str, str],
    progress: Progress,
    deadline: float | None,
    check: Callable[[], None] | None,
) -> tuple[str, int, int, str, str | None]:
    """pg_dump into a completed temporary object: (sha256, size, dump bytes, its key, its version)."""
    dumped = 0
    with storage.MultipartUpload(metadata) as upload:  # first: no point dumping if S3 is down
        gzip = zlib.compressobj(settings().backup_gzip_level, zlib.DEFLATED, 31)
        with pgtools.Process(command, db, stdout=True) as proc:
            while chunk := proc.stdout.read(CHUNK):
                dumped += len(chunk)
                upload.write(gzip.compress(chunk))
                progress("dump", dumped, None)
                if deadline is not None and time.monotonic() > deadline:
                    raise BackupFailed(f"Out of time after dumping {dumped} bytes; the upload was aborted.")
            upload.write(gzip.flush())
            code = proc.wait()
            if code != 0:
                raise BackupFailed(f"pg_dump failed (exit {code}): {proc.errors()}")
        if check is not None:
            check()
        sha256, size, version_id = upload.complete()
    return sha256, size, dumped, upload.key, version_id
