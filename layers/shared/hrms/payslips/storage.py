"""Payslip PDFs in S3: tenants/{tenantId}/payslips/{yyyy-mm}/{employeeId}.pdf in the documents bucket.

One processed run per month (a month's other runs are rejected, and never processed), so the key is the
payslip's for good: rendering it again writes the same key. Every object is written with SSE-KMS
(`ServerSideEncryption: aws:kms`, the bucket's key) and its SHA-256 in the metadata; downloads are the
documents' short-lived presigned GET (`hrms.documents.storage.download_url`).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from hrms import aws
from hrms.config import settings

CONTENT_TYPE = "application/pdf"


def object_key(tenant_id: UUID, month: dt.date, employee_id: UUID) -> str:
    return f"tenants/{tenant_id}/payslips/{month:%Y-%m}/{employee_id}.pdf"


def put(key: str, body: bytes, sha256: str) -> None:
    aws.client("s3").put_object(
        Bucket=settings().documents_bucket,
        Key=key,
        Body=body,
        ContentType=CONTENT_TYPE,
        ServerSideEncryption="aws:kms",
        Metadata={"sha256": sha256},
    )
