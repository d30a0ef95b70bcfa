"""Export files in S3: tenants/{tenantId}/exports/{exportId}/{kind}-{period}.{csv|xlsx} in the documents
bucket (its default encryption, SSE-KMS, applies as to documents). The worker uploads a finished file from
/tmp (`upload_file`: multipart past 8 MiB, so a large file never sits in memory); downloads are the
documents' short-lived presigned GET (`hrms.documents.storage.download_url`)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from hrms import aws
from hrms.config import settings

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def file_name(kind: str, period: str, file_format: str) -> str:
    return f"{kind}-{period}.{file_format}"


def object_key(tenant_id: UUID, export_id: UUID, name: str) -> str:
    return f"tenants/{tenant_id}/exports/{export_id}/{name}"


def upload(path: Path, key: str, file_format: str) -> None:
    aws.client("s3").upload_file(
        str(path),
        settings().documents_bucket,
        key,
        ExtraArgs={"ContentType": CONTENT_TYPES[file_format]},
    )
