"""Validating a backup: metadata, size, sha256, gzip integrity and dump trailer in one streamed read;
optionally a trial restore into a scratch database that is dropped afterwards."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hrms.backup import keys, load, pgtools, repo, storage
from hrms.backup.common import Progress, RestoreFailed, no_progress
from hrms.backup.models import Validation
from hrms.backup.stream import StreamCheck
from hrms.errors import Invalid
from hrms.observability import logger

REQUIRED_METADATA = ("sha256", "size", "kind", "created-at", "pg-version")


@dataclass(frozen=True)
class Verified:
    parsed: keys.BackupKey
    info: storage.ObjectInfo
    checks: dict[str, bool | None]
    problems: list[str]
    sha256: str

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
    check = StreamCheck(meta.get("sha256"), int(meta["size"]) if meta.get("size", "").isdigit() else None)
    done = 0
    for chunk in storage.read(info):
        for _ in check.feed(chunk):
            pass
        done += len(chunk)
        progress("validate", done, info.size)
    checks: dict[str, bool | None] = {"metadata": not problems, **check.checks(), "trialRestore": None}
    return Verified(parsed, info, checks, problems + check.problems(), check.sha256)


def validate_backup(key: str, *, trial_restore: bool = False, progress: Progress = no_progress) -> Validation:
    verified = verify(key, progress=progress)
    if trial_restore and verified.valid:
        problem = _trial_restore(verified, progress)
        verified.checks["trialRestore"] = problem is None
        if problem:
            verified.problems.append(f"trial restore failed: {problem}")
    return verified.as_validation()


def _trial_restore(verified: Verified, progress: Progress) -> str | None:
    """Restore into a new scratch database on the live server, then drop it; the failure, if any."""
    live = pgtools.live()
    scratch = f"hrms_scratch_{secrets.token_hex(6)}"
    with live.connect() as conn:
        repo.create_database(conn, scratch)
    try:
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
