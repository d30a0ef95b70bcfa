"""What every backup module shares: errors, the progress callback, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hrms.errors import DomainError

# progress(phase, bytes_done, bytes_total or None): phases "dump", "validate", "restore", "safety backup".
Progress = Callable[[str, int, int | None], None]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_progress(phase: str, done: int, total: int | None) -> None:
    """The default progress callback: report nothing."""


class BackupFailed(DomainError):
    """pg_dump failed, or the tools cannot back up this server; nothing was published."""

    status = 500
    title = "Backup failed"


class RestoreFailed(DomainError):
    """psql failed while restoring; its single transaction was rolled back, nothing changed."""

    status = 500
    title = "Restore failed"
