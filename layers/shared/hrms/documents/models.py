"""Document bodies and responses."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from hrms.models import ApiModel, InputModel

MAX_DOCUMENT_BYTES = 25 * 1024 * 1024


class NewDocument(InputModel):
    employee_id: UUID | None = None
    category: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    file_name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(max_length=127, pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
    size_bytes: int = Field(ge=1, le=MAX_DOCUMENT_BYTES)
    expires_on: date | None = None


class Document(ApiModel):
    document_id: str
    employee_id: str | None
    category: str
    file_name: str
    content_type: str
    size_bytes: int
    expires_on: date | None
    s3_key: str
    created_at: datetime
    created_by: str
    download_url: str | None = None
    uploaded: bool | None = Field(
        default=None,
        description="On GET /documents/{id}: whether S3 holds the file at its declared size (null in lists).",
    )


class DocumentUpload(ApiModel):
    document_id: str
    s3_key: str
    upload_url: str
    upload_method: str = "PUT"
    upload_headers: dict[str, str]
    expires_in: int
    document: Document
