"""Import jobs over HTTP: create (a presigned upload), start (queue it, once), list and read.

Every route needs `imports:write` (organisation-level: a holder sees every import of the tenant).
Starting is a state change under a row lock, so two concurrent starts run the import once: the
second answers 409 with the import's current state. An import may be started once, except that a
successful dry run may then be started once for real. Starting before the file was uploaded (or
with a file of another size than declared) is a 409 naming why, and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID, uuid4

from hrms.db.postgres import tenant_tx
from hrms.documents import storage as signing
from hrms.errors import Conflict, NotFound
from hrms.imports import repo, storage
from hrms.imports.models import ImportJob, ImportUpload, NewImport, RowError, Started, StartImport
from hrms.imports.repo import ImportRow
from hrms.pagination import Page, decode_keyset, page_of
from hrms.tenancy import Actor, Tenant


def create_import(tenant: Tenant, actor: Actor, new: NewImport) -> ImportUpload:
    import_id = uuid4()
    key = storage.upload_key(tenant.tenant_id, import_id)
    with tenant_tx(tenant, actor) as tx:
        repo.insert(
            tx,
            {
                "id": import_id,
                "kind": new.kind,
                "file_name": new.file_name,
                "content_type": new.content_type,
                "size_bytes": new.size_bytes,
                "object_key": key,
                "created_by": actor.user_uuid,
            },
        )
    return ImportUpload(
        import_id=import_id,
        upload_url=signing.upload_url(key, new.content_type, new.size_bytes),
        upload_headers={"Content-Type": new.content_type, "Content-Length": str(new.size_bytes)},
        expires_in=signing.UPLOAD_TTL_S,
    )


def start_import(tenant: Tenant, actor: Actor, import_id: UUID, body: StartImport) -> Started:
    """Queue the import and emit `import.started` in the same transaction (202)."""
    from hrms.outbox import IMPORT_STARTED, emit  # StartImport's handler imports it at init; the reads never

    with tenant_tx(tenant, actor) as tx:
        job = repo.get(tx, import_id, for_update=True)
        if job is None:
            raise NotFound("No such import.")
        if not _startable(job, body.dry_run):
            raise Conflict(
                "The import has already been started; its current state is attached (result)."
                if job.status != "succeeded" or not job.dry_run
                else "A dry run of this import already passed; start it with dryRun false to write it.",
                importId=str(job.id),
                importStatus=job.status,
                rule="started-once",
                result=_job(job).model_dump(mode="json", by_alias=True),
            )
        if not signing.uploaded(job.object_key, job.size_bytes):
            raise Conflict(
                "The file has not been uploaded: PUT it to the uploadUrl of POST /imports with the uploadHeaders"
                " (the URL expires; after that create a new import).",
                importId=str(job.id),
                importStatus=job.status,
                rule="not-uploaded",
            )
        repo.queue(tx, import_id, body.dry_run, actor.user_uuid, actor.role)
        emit(tx, IMPORT_STARTED, {"importId": import_id, "dryRun": body.dry_run})
    return Started(import_id=import_id, status="queued")


def list_imports(tenant: Tenant, actor: Actor, limit: int, cursor: str | None) -> Page[ImportJob]:
    """Newest first, keyset pages."""
    after = decode_keyset(cursor, dt.datetime.fromisoformat, UUID)
    with tenant_tx(tenant, actor) as tx:
        found = repo.page(tx, (after[0], after[1]) if after else None, limit + 1)
    return page_of(found, limit, lambda last: [last.created_at.isoformat(), str(last.id)], _job)


def get_import(tenant: Tenant, actor: Actor, import_id: UUID) -> ImportJob:
    with tenant_tx(tenant, actor) as tx:
        job = repo.get(tx, import_id)
    if job is None:
        raise NotFound("No such import.")
    return _job(job)


def _startable(job: ImportRow, dry_run: bool) -> bool:
    return job.status == "created" or (job.status == "succeeded" and job.dry_run and not dry_run)


def _job(row: ImportRow) -> ImportJob:
    return ImportJob(
        import_id=row.id,
        kind=row.kind,  # type: ignore[arg-type]  # the table's CHECK holds it to the kinds
        file_name=row.file_name,
        status=row.status,  # type: ignore[arg-type]  # likewise
        dry_run=row.dry_run,
        total=row.total,
        succeeded=row.succeeded,
        failed=row.failed,
        reason=row.reason,
        errors=[RowError.model_validate(error) for error in row.errors],
        error_count=row.error_count,
        error_report_url=(
            signing.download_url(row.error_report_key, f"import-{row.id}-errors.csv") if row.error_report_key else None
        ),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
