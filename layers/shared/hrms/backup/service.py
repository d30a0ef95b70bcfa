"""What the backup API functions and `hrms backup` call: tenants named by id (API) or slug (CLI)
are resolved to their schema here; the work is done by dump / catalog / validate / restore / cleanup."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from hrms.backup import catalog, cleanup, dump, keys, pgtools, repo, restore, validate
from hrms.backup.common import Clock, Progress, no_progress, utc_now
from hrms.backup.models import BackupInfo, CleanupReport, RestoreResult, Validation
from hrms.db import cells
from hrms.errors import Invalid, NotFound
from hrms.pagination import DEFAULT_LIMIT, Page


def tenant_schema(tenant: UUID | str, target: str | None = None) -> str:
    """The schema of a tenant given by id or slug, in the live registry or a target's; 404 if unknown."""
    value: UUID | str = tenant
    column: Literal["id", "slug"] = "id"
    if not isinstance(tenant, UUID):
        try:
            value = UUID(tenant)
        except ValueError:
            column = "slug"
    with pgtools.target(target).connect() as conn:
        schema = repo.tenant_schema(conn, column, value)
    if schema is None:
        raise NotFound("No such tenant.")
    return schema


def create_backup(
    kind: keys.Kind,
    tenant: UUID | str | None = None,
    *,
    cell: str | None = None,
    progress: Progress = no_progress,
) -> BackupInfo:
    """A full backup of `cell` (default: `default`, the control database), or the tenant's schema backup."""
    if kind == "full":
        return dump.backup_full(cell=cell or cells.DEFAULT, progress=progress)
    if cell is not None:
        raise Invalid("A schema backup is dumped from its tenant's cell; name no cell.")
    if tenant is None:
        raise NotFound("No such tenant.")
    return dump.backup_schema(tenant_schema(tenant), progress=progress)


def list_backups(
    kind: keys.Kind | None = None,
    tenant: UUID | str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    cell: str | None = None,
) -> Page[BackupInfo]:
    """`cell` selects that cell's full backups (any well-formed name: a cell no longer configured still has
    its backups); with a tenant or kind `schema` it is a 422 (a schema backup is found by its tenant)."""
    if cell is not None:
        keys.checked_cell(cell)
        if kind == "schema" or tenant is not None:
            raise Invalid(
                "The cell filter selects full backups; a tenant's schema backups are listed by tenant.",
                errors=[{"field": "cell", "type": "cell_filter", "message": "only with full backups"}],
            )
    schema = tenant_schema(tenant) if tenant is not None else None
    return catalog.list_backups(kind, schema, _utc(since), limit, cursor, cell)


def _utc(moment: datetime | None) -> datetime | None:
    """`moment` in UTC (naive means UTC); None for a moment before any backup could exist."""
    if moment is None:
        return None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        return None if moment.year < 2000 else datetime.max.replace(tzinfo=UTC)


def validate_backup(key: str, *, trial_restore: bool = False, progress: Progress = no_progress) -> Validation:
    return validate.validate_backup(key, trial_restore=trial_restore, progress=progress)


def restore_backup(
    key: str, tenant: UUID | str | None = None, target: str | None = None, *, progress: Progress = no_progress
) -> RestoreResult:
    keys.parse_or_invalid(key)
    schema = tenant_schema(tenant, target) if tenant is not None else None
    return restore.restore_backup(key, tenant_schema=schema, target=target, progress=progress)


def recover_restores(*, older_than_s: float = restore.RECOVER_AFTER_S) -> list[dict[str, Any]]:
    """Finish or roll back tenant restores that died midway (see `restore.recover`)."""
    return restore.recover(older_than_s=older_than_s)


def cleanup_backups(
    retention_days: int | None = None, keep_last: int | None = None, *, dry_run: bool = False, clock: Clock = utc_now
) -> CleanupReport:
    return cleanup.cleanup(retention_days=retention_days, keep_last=keep_last, dry_run=dry_run, clock=clock)
