"""Import requests and responses on the wire."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import Field

from hrms.imports.limits import MAX_FILE_BYTES
from hrms.models import ApiModel, InputModel

Kind = Literal["employees", "salaries", "leave-balances"]
Status = Literal["created", "queued", "validating", "running", "succeeded", "failed"]
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ContentType = Literal["text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]


class NewImport(InputModel):
    kind: Kind
    file_name: str = Field(min_length=1, max_length=255)
    content_type: ContentType
    size_bytes: int = Field(
        ge=1, le=MAX_FILE_BYTES, description="The file's exact size: the presigned PUT accepts no other."
    )


class ImportUpload(ApiModel):
    import_id: UUID
    upload_url: str
    upload_method: str = "PUT"
    upload_headers: dict[str, str] = Field(description="Send exactly these headers with the PUT.")
    expires_in: int


class StartImport(InputModel):
    dry_run: bool = Field(default=False, description="Validate every row and write nothing.")


class RowError(ApiModel):
    row: int = Field(description="The file's line number (the header is line 1); 0 for the file as a whole.")
    column: str | None
    message: str


class Started(ApiModel):
    import_id: UUID
    status: Status


class ImportJob(ApiModel):
    import_id: UUID
    kind: Kind
    file_name: str
    status: Status
    dry_run: bool
    total: int = Field(description="Data rows read (blank lines not counted).")
    succeeded: int = Field(description="Rows written (a successful dry run: rows that would be).")
    failed: int = Field(description="Rows with at least one error.")
    reason: str | None = Field(description="Why the import failed as a whole, if it did.")
    errors: list[RowError] = Field(description="The first 100 row errors, by line.")
    error_count: int
    error_report_url: str | None = Field(description="Every row error as CSV (presigned GET), when there are any.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
