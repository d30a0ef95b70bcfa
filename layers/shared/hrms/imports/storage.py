"""An import's files in S3, under tenants/{tenantId}/imports/{importId}/: `upload` (what the client
PUTs) and `errors.csv` (the report). Signing is `hrms.documents.storage`'s (a SigV4 PUT bound to the
declared type and size, a short-lived GET); reading and writing objects uses the container's S3 client.

The worker copies the upload to a temporary file in chunks (`spool`): the readers go over it twice
(validate, then write) and openpyxl needs a seekable file, while memory stays flat with file size.
"""

from __future__ import annotations

import tempfile
from typing import IO, Any
from uuid import UUID

from hrms import aws
from hrms.config import settings
from hrms.documents import storage as signing

UPLOAD_TTL_S = signing.UPLOAD_TTL_S
_CHUNK = 1024 * 1024


def upload_key(tenant_id: UUID, import_id: UUID) -> str:
    return f"tenants/{tenant_id}/imports/{import_id}/upload"


def report_key(tenant_id: UUID, import_id: UUID) -> str:
    return f"tenants/{tenant_id}/imports/{import_id}/errors.csv"


def upload_url(key: str, content_type: str, size_bytes: int) -> str:
    return signing.upload_url(key, content_type, size_bytes)


def uploaded(key: str, size_bytes: int) -> bool:
    """Whether the client's PUT happened (the object exists with the declared size)."""
    return signing.uploaded(key, size_bytes)


def report_url(key: str, file_name: str) -> str:
    return signing.download_url(key, file_name)


def spool(key: str) -> IO[bytes]:
    """The object in a temporary file (deleted when closed), positioned at its start."""
    body = _s3().get_object(Bucket=settings().documents_bucket, Key=key)["Body"]
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    try:
        for chunk in iter(lambda: body.read(_CHUNK), b""):
            copy.write(chunk)
    except BaseException:
        copy.close()
        raise
    finally:
        body.close()
    copy.seek(0)
    return copy


def put_report(key: str, report: IO[bytes]) -> None:
    report.seek(0)
    _s3().upload_fileobj(report, settings().documents_bucket, key, ExtraArgs={"ContentType": "text/csv"})


def _s3() -> Any:
    return aws.client("s3")
