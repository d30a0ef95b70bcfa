"""Retention: delete backups older than N days, but always keep the newest K of each schema's backups and of
each cell's full backups (`keys.BackupKey.group`).

The clock is injectable (tests, and "what would go on date X" questions). A dry run reports the
same list without deleting. A backup's two parts go together: its PostgreSQL dump (the key listed)
and its MongoDB part beside it. Leftovers of interrupted backups older than a day (temporary objects
under `backups/incoming/`, multipart uploads never completed, MongoDB parts whose dump was never
published) are removed as well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from hrms.backup import catalog, keys, storage
from hrms.backup.common import Clock, utc_now
from hrms.backup.models import CleanupReport
from hrms.config import settings
from hrms.observability import logger

STALE_UPLOAD = timedelta(days=1)


def plan(backups: Iterable[keys.BackupKey], *, retention_days: int, keep_last: int, clock: Clock) -> list[str]:
    """Keys to delete: past retention, and not among the newest `keep_last` of their group (the schema's
    backups, or the cell's full backups)."""
    cutoff = clock() - timedelta(days=retention_days)
    groups: dict[tuple[str, str], list[keys.BackupKey]] = defaultdict(list)
    for backup in backups:
        groups[backup.group].append(backup)
    expired = []
    for members in groups.values():
        members.sort(key=lambda b: (b.created_at, b.key), reverse=True)
        expired += [b.key for b in members[keep_last:] if b.created_at < cutoff]
    return sorted(expired)


def cleanup(
    *,
    retention_days: int | None = None,
    keep_last: int | None = None,
    dry_run: bool = False,
    clock: Clock = utc_now,
) -> CleanupReport:
    cfg = settings()
    retention_days = cfg.backup_retention_days if retention_days is None else retention_days
    keep_last = cfg.backup_keep_last if keep_last is None else keep_last
    if retention_days < 1 or keep_last < 1:
        from hrms.errors import Invalid

        raise Invalid("Retention needs at least 1 day and keeping at least the newest backup.")
    listed = [item.parsed for item in catalog.iter_backups()]
    expired = plan(listed, retention_days=retention_days, keep_last=keep_last, clock=clock)
    stale = 0
    if not dry_run:
        failed = set(storage.delete(expired))
        storage.delete([keys.mongo_key(key) for key in expired if key not in failed])  # a leftover is an orphan
        expired = [key for key in expired if key not in failed]
        stale = _remove_stale_uploads(clock)
    logger.info(
        "Backup cleanup",
        extra={"dry_run": dry_run, "expired": len(expired), "kept": len(listed) - len(expired), "stale": stale},
    )
    return CleanupReport(
        dry_run=dry_run,
        retention_days=retention_days,
        keep_last=keep_last,
        expired=expired,
        kept=len(listed) - len(expired),
        stale_uploads_removed=stale,
    )


def _remove_stale_uploads(clock: Clock) -> int:
    cutoff = clock() - STALE_UPLOAD
    stale_objects = [obj["Key"] for obj in storage.list_objects(keys.INCOMING_PREFIX) if obj["LastModified"] < cutoff]
    removed = len(stale_objects) - len(storage.delete(stale_objects))
    listed = {obj["Key"]: obj["LastModified"] for obj in storage.list_objects(keys.PREFIX)}
    orphans = [
        key
        for key, modified in listed.items()
        if (dump := keys.of_mongo_key(key)) is not None and dump not in listed and modified < cutoff
    ]
    removed += len(orphans) - len(storage.delete(orphans))
    for upload in storage.stale_uploads(keys.PREFIX):
        if upload["Initiated"] < cutoff:
            storage.abort_upload(upload["Key"], upload["UploadId"])
            removed += 1
    return removed
