"""Validating a backup, both parts: the PostgreSQL dump's metadata, size, sha256, gzip integrity and dump
trailer in one streamed read, and the MongoDB part's size, sha256, gzip integrity, format, end marker
and per-collection counts (against the dump's metadata) in another; optionally a trial restore of both
into scratch databases (PostgreSQL and MongoDB) that are dropped afterwards.

A backup taken before backups had a MongoDB part (no `mongo-sha256` in its metadata) has its MongoDB
checks reported as null; it restores the PostgreSQL part only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hrms.backup import catalog, keys, load, mongo_part, pgtools, repo, storage
from hrms.backup.common import Progress, RestoreFailed, no_progress
from hrms.backup.models import MongoPartInfo, Validation
from hrms.backup.stream import StreamCheck
from hrms.db import cells
from hrms.errors import DomainError, Invalid, NotFound
from hrms.migrations.files import migrations
from hrms.observability import logger

REQUIRED_METADATA = ("sha256", "size", "kind", "created-at", "pg-version")


@dataclass
class Verified:
    parsed: keys.BackupKey
    info: storage.ObjectInfo
    checks: dict[str, bool | None]
    problems: list[str]
    sha256: str
    mongo: storage.ObjectInfo | None = None  # the MongoDB part (None: a backup without one)
    mongo_info: MongoPartInfo | None = None

    @property
    def tenant_id(self) -> str | None:
        return self.info.metadata.get("tenant-id") if self.parsed.kind == "schema" else None

    def mongo_check(self) -> mongo_part.PartCheck:
        """A fresh check of the MongoDB part against the dump's metadata (for a second read of it)."""
        meta = self.info.metadata
        return mongo_part.PartCheck(
            meta.get("mongo-sha256"),
            _int(meta.get("mongo-size")),
            keys.parse_counts(meta.get("mongo-counts")),
            tenant_id=self.tenant_id,
        )

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_validation(self) -> Validation:
        return Validation(
            key=self.parsed.key,
            valid=self.valid,
            checks=self.checks,
            problems=self.problems,
            size_bytes=self.info.size,
            sha256=self.sha256,
            mongo=self.mongo_info,
        )


def verify(key: str, *, progress: Progress = no_progress) -> Verified:
    """Read the whole object once and check it; 404 if there is no such backup."""
    parsed = keys.parse_or_invalid(key)
    info = storage.head(key)
    meta = info.metadata
    problems = [f"metadata has no {name}" for name in REQUIRED_METADATA if not meta.get(name)]
    if meta.get("kind") and meta["kind"] != parsed.kind:
        problems.append(f"metadata says kind {meta['kind']}, the key says {parsed.kind}")
    if parsed.schema_name and meta.get("schema") != parsed.schema_name:
        problems.append("metadata names another schema than the key")
    if parsed.cell and meta.get("cell", cells.DEFAULT) != parsed.cell:  # full backups before cells: default
        problems.append(f"metadata names another cell than the key ({meta.get('cell')}, not {parsed.cell})")
    check = StreamCheck(meta.get("sha256"), int(meta["size"]) if meta.get("size", "").isdigit() else None)
    done = 0
    for chunk in storage.read(info):
        for _ in check.feed(chunk):
            pass
        done += len(chunk)
        progress("validate", done, info.size)
    checks: dict[str, bool | None] = {"metadata": not problems, **check.checks()}
    problems += check.problems()
    verified = Verified(parsed, info, checks, problems, check.sha256, None, catalog.mongo_info(key, meta))
    _verify_mongo(verified, progress)
    checks["trialRestore"] = None
    return verified


MONGO_CHECKS = ("mongoSize", "mongoSha256", "mongoGzip", "mongoEndMarker", "mongoCounts")


def _verify_mongo(verified: Verified, progress: Progress) -> None:
    """Read the MongoDB part once and check it (checks stay null for a backup without one)."""
    checks, problems = verified.checks, verified.problems
    if verified.mongo_info is None:
        checks.update(dict.fromkeys(MONGO_CHECKS))
        return
    try:
        info = storage.head(verified.mongo_info.key)
    except NotFound:
        checks.update(dict.fromkeys(MONGO_CHECKS, False))
        problems.append("the MongoDB part is missing")
        return
    verified.mongo = info
    check = verified.mongo_check()
    if info.metadata.get("sha256") != check.expected_sha256:
        problems.append("the MongoDB part's own metadata names another sha256 than the dump's")
    for _ in mongo_part.frames(info, check, progress, "validate"):
        pass
    checks.update(check.checks())
    problems += check.problems()


def validate_backup(key: str, *, trial_restore: bool = False, progress: Progress = no_progress) -> Validation:
    verified = verify(key, progress=progress)
    if trial_restore and verified.valid:
        problem = _trial_restore(verified, progress)
        if problem is None and verified.mongo is not None:
            problem = _trial_restore_mongo(verified, progress)
        verified.checks["trialRestore"] = problem is None
        if problem:
            verified.problems.append(f"trial restore failed: {problem}")
    return verified.as_validation()


def _trial_restore_mongo(verified: Verified, progress: Progress) -> str | None:
    """Load the MongoDB part into a new scratch database, compare its counts, drop it; the failure, if any."""
    assert verified.mongo is not None
    scratch = f"hrms_scratch_{secrets.token_hex(6)}"
    check = verified.mongo_check()
    try:
        counts = mongo_part.replace_database(verified.mongo, check, scratch, progress)
        loaded = mongo_part.counts_of(scratch, None)
        if loaded != counts:
            return f"MongoDB: the scratch database holds {loaded} documents, the part {counts}"
        return None
    except DomainError as exc:
        return f"MongoDB: {exc.detail}"
    finally:
        try:
            mongo_part.drop_database(scratch)
        except Exception:
            logger.warning("Could not drop a scratch MongoDB database", extra={"database": scratch}, exc_info=True)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _scratch_server(verified: Verified) -> pgtools.Database:
    """The server of the cell the backup was dumped from (the same PostgreSQL), else the control database's."""
    cell = verified.parsed.cell or verified.info.metadata.get("cell") or cells.DEFAULT
    try:
        return pgtools.live(cell)
    except cells.UnknownCell:
        return pgtools.live()


def _trial_restore(verified: Verified, progress: Progress) -> str | None:
    """Restore into a new scratch database on the live server, then drop it; the failure, if any."""
    live = _scratch_server(verified)
    scratch = f"hrms_scratch_{secrets.token_hex(6)}"
    with live.connect() as conn:
        repo.create_database(conn, scratch)
    try:
        if verified.parsed.kind == "schema":  # a tenant schema's dump refers to the public schema beside it
            with live.with_dbname(scratch).connect() as conn:
                for migration in migrations("public"):
                    conn.execute(migration.statement())
        load.load(live.with_dbname(scratch), verified.info, progress=progress, phase="trial restore", atomic=False)
        return None
    except (RestoreFailed, Invalid) as exc:
        return exc.detail
    finally:
        try:
            with live.connect() as conn:
                repo.drop_database(conn, scratch)
        except Exception:
            logger.warning("Could not drop a scratch database", extra={"database": scratch}, exc_info=True)
