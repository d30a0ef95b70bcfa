"""An import's files in S3, under tenants/{tenantId}/imports/{importId}/: `upload` (what the client
PUTs) and `errors.csv` (the report). Signing them is `hrms.documents.storage`'s (a SigV4 PUT bound to the
declared type and size, a short-lived GET); reading and writing objects uses the container's S3 client.

The worker copies the upload to a temporary file in chunks (`spool`): the readers go over it twice
(validate, then write) and openpyxl needs a seekable file, while memory stays flat with file size.
"""

from __future__ import annotations

import tempfile
from typing import IO
from uuid import UUID

from hrms import aws
from hrms.config import settings

_CHUNK = 1024 * 1024


def upload_key(tenant_id: UUID, import_id: UUID) -> str:
    return f"tenants/{tenant_id}/imports/{import_id}/upload"


def report_key(tenant_id: UUID, import_id: UUID) -> str:
    return f"tenants/{tenant_id}/imports/{import_id}/errors.csv"


def spool(key: str) -> IO[bytes]:
    """The object in a temporary file (deleted when closed), positioned at its start."""
    body = aws.client("s3").get_object(Bucket=settings().documents_bucket, Key=key)["Body"]
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
    aws.client("s3").upload_fileobj(report, settings().documents_bucket, key, ExtraArgs={"ContentType": "text/csv"})
