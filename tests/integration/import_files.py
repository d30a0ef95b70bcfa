"""Import files for the import tests (CSV and XLSX in memory) and a run of the whole flow through the
services, the real S3 (moto) and the worker's queue consumer (no HTTP)."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx
from psycopg import sql

from hrms.db.postgres import transaction
from hrms.imports import service, worker
from hrms.imports.models import CSV, ImportJob, NewImport, StartImport
from hrms.outbox.consumer import consume
from hrms.outbox.envelope import Envelope
from hrms.outbox.store import OutboxRow
from hrms.tenancy import Actor, Tenant

EMPLOYEE_HEADER = ["email", "firstName", "lastName", "departmentCode", "designationTitle", "dateOfJoining"]


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("People")
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def people(count: int, domain: str | None = None, department: str = "ENG", title: str = "Engineer") -> list[list[str]]:
    """`count` employee rows; everyone after the first reports to the first."""
    domain = domain or f"{secrets.token_hex(4)}.example.com"
    rows = []
    for n in range(count):
        rows.append([f"p{n}@{domain}", f"First{n}", f"Last{n}", department, title, "2024-01-01"])
    return rows


def create(tenant: Tenant, actor: Actor, kind: str, content: bytes, content_type: str = CSV) -> UUID:
    """POST /imports, then the client's PUT to the presigned URL with the headers it was given."""
    upload = service.create_import(
        tenant,
        actor,
        NewImport(kind=kind, file_name="people.csv", content_type=content_type, size_bytes=len(content)),  # type: ignore[arg-type]
    )
    response = httpx.put(upload.upload_url, content=content, headers=upload.upload_headers)
    assert response.status_code == 200, response.text
    return upload.import_id


def started_event(tenant: Tenant, import_id: UUID) -> Envelope:
    """The import.started event the start wrote to the tenant's outbox (the newest for this import)."""
    with transaction() as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT id, event_id, event_type, payload, created_at, attempts FROM {} WHERE payload->>'importId' = %s"
                " ORDER BY id DESC LIMIT 1"
            ).format(sql.Identifier(tenant.schema_name, "outbox")),
            (str(import_id),),
        ).fetchone()
    assert row is not None, "no import.started event in the outbox"
    return Envelope.from_row(tenant.tenant_id, OutboxRow(**row))


def deliver(envelope: Envelope) -> dict[str, Any]:
    """The event as the ImportWorker receives it: one SQS record through the consumer."""
    record = {
        "messageId": str(envelope.event_id),
        "receiptHandle": "handle",
        "body": envelope.body(),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "0",
            "SenderId": "x",
            "ApproximateFirstReceiveTimestamp": "0",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ImportQueue",
        "awsRegion": "us-east-1",
    }
    return dict(consume({"Records": [record]}, None, worker.handle))


def run(
    tenant: Tenant, actor: Actor, kind: str, content: bytes, content_type: str = CSV, dry_run: bool = False
) -> ImportJob:
    """Create, upload, start and work an import; its state afterwards."""
    import_id = create(tenant, actor, kind, content, content_type)
    service.start_import(tenant, actor, import_id, StartImport(dry_run=dry_run))
    assert deliver(started_event(tenant, import_id)) == {"batchItemFailures": []}
    return service.get_import(tenant, actor, import_id)


def count(tenant: Tenant, table: str, where: str = "TRUE", params: Any = None) -> int:
    with transaction() as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) AS n FROM {} WHERE {}").format(
                sql.Identifier(tenant.schema_name, table),
                sql.SQL(where),
            ),
            params,
        ).fetchone()
    assert row is not None
    return int(row["n"])
