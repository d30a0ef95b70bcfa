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


class NewBackup(InputModel):
    kind: Kind
    tenant_id: UUID | None = None

    @model_validator(mode="after")
    def _tenant_for_schema_only(self) -> NewBackup:
        if self.kind == "schema" and self.tenant_id is None:
            raise ValueError("a schema backup needs tenantId")
        if self.kind == "full" and self.tenant_id is not None:
            raise ValueError("a full backup takes no tenantId")
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
    full_key: str | None
    schema_backups: int
    failures: dict[str, str]
