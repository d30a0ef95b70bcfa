"""The ExportWorker's work for one `export.requested` event: write the job's file and record the outcome.

    from hrms.exports.worker import handle
    from hrms.outbox.consumer import consume

    def handler(event, context):
        return consume(event, context, handle)

- The job is claimed `queued -> running` in its own committed transaction, so only one delivery
  works on it and `GET /exports/{id}` shows it running. A delivery that finds the job anything but
  queued (a redelivered message, or the same event sent twice) does nothing, except mark `failed` a job
  that has been running past `service.RUN_DEADLINE` (its worker died).
- The rows are streamed (`repo`, keyset batches) into a file under a temporary directory of /tmp
  (`sheets`), which is uploaded to S3 (`storage.upload`, multipart for large files) and removed.
- Success records the row count and the object key (`succeeded`). Any failure records `failed` with
  a reason (a domain error's own words, otherwise the error's type; the details go to the log) and
  is not retried: the user requests the export again. Only a failure to record the outcome raises,
  so SQS delivers the event again.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from uuid import UUID

from hrms.db.postgres import TenantTx, tenant_tx
from hrms.errors import DomainError
from hrms.exports import contents, repo, service, storage
from hrms.exports.repo import ExportRow
from hrms.observability import logger
from hrms.outbox.envelope import Envelope
from hrms.tenancy import Actor, Tenant

WORKER = "export-worker"
SYSTEM_ROLE = "system"


def handle(tenant: Tenant, envelope: Envelope) -> None:
    export_id = UUID(str(envelope.payload["exportId"]))
    actor = Actor(WORKER, SYSTEM_ROLE, tenant)
    with tenant_tx(tenant, actor) as tx:
        job = repo.claim(tx, export_id)
        if job is None:
            _expire_if_overdue(tx, export_id)
            return
    name = storage.file_name(job.kind, job.period, job.format)
    key = storage.object_key(tenant.tenant_id, job.id, name)
    try:
        count = _write_and_upload(tenant, actor, job, name, key)
    except Exception as exc:  # recorded on the job; the log keeps the details
        logger.exception("Export failed", extra={"exportId": str(export_id), "kind": job.kind})
        with tenant_tx(tenant, actor) as tx:
            repo.finish(tx, export_id, {"status": "failed", "failure": _reason(exc)})
        return
    with tenant_tx(tenant, actor) as tx:
        repo.finish(tx, export_id, {"status": "succeeded", "row_count": count, "object_key": key})
    logger.info("Export written", extra={"exportId": str(export_id), "kind": job.kind, "rows": count})


def _write_and_upload(tenant: Tenant, actor: Actor, job: ExportRow, name: str, key: str) -> int:
    with tempfile.TemporaryDirectory(prefix="export-") as directory:
        path = Path(directory) / name
        with tenant_tx(tenant, actor) as tx:
            count = contents.write(tx, job, path)
        storage.upload(path, key, job.format)
    return count


def _expire_if_overdue(tx: TenantTx, export_id: UUID) -> None:
    job = repo.get(tx, export_id)
    if job is not None and service.overdue(job, dt.datetime.now(dt.UTC)):
        repo.finish(tx, export_id, {"status": "failed", "failure": service.OVERDUE})


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    return f"The export could not be written ({type(exc).__name__}); request it again."
