"""Request and response models of the backup API (camelCase out, camelCase or snake_case in)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from hrms.backup.keys import Kind
from hrms.models import ApiModel, InputModel

BackupKeyStr = Annotated[str, StringConstraints(min_length=1, max_length=300)]
TargetName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
CELL_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"  # hrms.db.cells.NAME_PATTERN, and `default`
CellName = Annotated[str, StringConstraints(pattern=CELL_PATTERN)]


class NewBackup(InputModel):
    kind: Kind
    tenant_id: UUID | None = None
    cell: CellName | None = Field(
        default=None,
        description="A full backup's cell (default: `default`, the control database); one configured here.",
        examples=["default"],
    )

    @model_validator(mode="after")
    def _tenant_for_schema_only(self) -> NewBackup:
        if self.kind == "schema" and self.tenant_id is None:
            raise ValueError("a schema backup needs tenantId")
        if self.kind == "full" and self.tenant_id is not None:
            raise ValueError("a full backup takes no tenantId")
        if self.kind == "schema" and self.cell is not None:
            raise ValueError("a schema backup takes no cell: it is dumped from its tenant's cell")
        return self


class MongoPartInfo(ApiModel):
    """The MongoDB part of a backup (stored beside the PostgreSQL dump, same backup id)."""

    key: str
    size_bytes: int
    sha256: str | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="documents per collection")


class BackupInfo(ApiModel):
    key: str
    kind: Kind
    schema_name: str | None = Field(default=None, serialization_alias="schema")
    cell: str | None = Field(
        default=None,
        description="The cell it was dumped from (a full backup: the cell it covers); null for a schema backup"
        " taken before there were cells.",
    )
    size_bytes: int
    sha256: str | None = None
    created_at: datetime
    server_version: str | None = None
    reason: str | None = None
    mongo: MongoPartInfo | None = Field(
        default=None, description="The MongoDB part; null for backups taken before backups had one."
    )


class ValidateRequest(InputModel):
    key: BackupKeyStr
    trial_restore: bool = False


class Validation(ApiModel):
    key: str
    valid: bool
    checks: dict[str, bool | None]
    problems: list[str]
    size_bytes: int
    sha256: str
    mongo: MongoPartInfo | None = None


class RestoreRequest(InputModel):
    key: BackupKeyStr
    tenant_id: UUID | None = None
    target: TargetName | None = None


class RestoreResult(ApiModel):
    key: str
    kind: Kind
    target: str
    cell: str | None = Field(
        default=None, description="The cell restored into (the live database's); null for a target."
    )
    restored_schemas: list[str]
    row_counts: dict[str, int]
    safety_backup_key: str | None = None
    schema_version: int | None = None
    mongo_counts: dict[str, int] | None = Field(
        default=None, description="Documents per MongoDB collection after the restore (the tenant's, for one tenant)."
    )
    duration_ms: int


class CleanupReport(ApiModel):
    dry_run: bool
    retention_days: int
    keep_last: int
    expired: list[str]
    kept: int
    stale_uploads_removed: int


class DailyReport(ApiModel):
    full_key: str | None  # the default cell's (the control database's) full backup
    schema_backups: int
    failures: dict[str, str]  # "full" (the default cell), "full:<cell>", "recover", or a schema: what went wrong
    full_keys: dict[str, str] = Field(default_factory=dict)  # cell -> its full backup, every cell backed up
    full_missing: list[str] = Field(default_factory=list)  # the configured cells without a full backup this run

    @property
    def every_cell_backed_up(self) -> bool:
        return bool(self.full_keys or self.full_key) and not self.full_missing
