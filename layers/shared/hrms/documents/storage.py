"""The documents' contents in S3, under tenants/{tenantId}/documents/{documentId}/{safe file name}.

Uploads and downloads never pass through Lambda: a presigned PUT whose signature covers the
declared Content-Type and Content-Length, and a short-lived presigned GET. Kept apart from
`repo` (MongoDB metadata) and `service` (scope and duties) because it is a second store with its
own client: only the functions that sign or check objects import boto3.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from hrms.config import settings

UPLOAD_TTL_S = 900
DOWNLOAD_TTL_S = 300
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def object_key(tenant_id: object, document_id: str, file_name: str) -> str:
    safe_name = _UNSAFE.sub("_", file_name).strip("._") or "file"
    return f"tenants/{tenant_id}/documents/{document_id}/{safe_name}"


def upload_url(key: str, content_type: str, size_bytes: int) -> str:
    return str(
        _presigner().generate_presigned_url(
            "put_object",
            Params={
                "Bucket": settings().documents_bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size_bytes,
            },
            ExpiresIn=UPLOAD_TTL_S,
        )
    )


def download_url(key: str, file_name: str, version_id: str | None = None) -> str:
    """A presigned GET of the object; of its version `version_id` when the document pins one (the bucket
    is versioned: an overwritten or restored document still downloads the file it names)."""
    params = {
        "Bucket": settings().documents_bucket,
        "Key": key,
        "ResponseContentDisposition": f'attachment; filename="{_UNSAFE.sub("_", file_name)}"',
    }
    if version_id:
        params["VersionId"] = version_id
    return str(_presigner().generate_presigned_url("get_object", Params=params, ExpiresIn=DOWNLOAD_TTL_S))


def uploaded(key: str, size_bytes: int) -> bool:
    """Whether the presigned upload happened: the object exists with the declared size."""
    return uploaded_version(key, size_bytes)[0]


def uploaded_version(key: str, size_bytes: int, version_id: str | None = None) -> tuple[bool, str | None]:
    """Whether the presigned upload happened (the object, or its pinned version, exists with the declared
    size), and the version id S3 gave it (None in an unversioned bucket)."""
    from botocore.exceptions import ClientError

    extra = {"VersionId": version_id} if version_id else {}
    try:
        head = _presigner().head_object(Bucket=settings().documents_bucket, Key=key, **extra)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "400"):
            return False, None
        raise
    found = head.get("VersionId")
    return bool(head["ContentLength"] == size_bytes), None if found in (None, "", "null") else str(found)


@cache
def _presigner() -> Any:
    """An S3 client that signs with SigV4, whose presigned PUT covers Content-Type *and* Content-Length.

    (A SigV2 query signature, which botocore may pick for presigning, covers the type but not the length.)
    """
    import boto3
    from botocore.config import Config

    cfg = settings()
    return boto3.client(
        "s3",
        region_name=cfg.aws_region,
        endpoint_url=cfg.aws_endpoint_url,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
