"""Documents: metadata in MongoDB (`hrms.documents.repo`), contents in S3 (`hrms.documents.storage`).

Uploads and downloads never pass through Lambda: POST returns a presigned PUT whose signature
covers the declared Content-Type and Content-Length, GET returns a short-lived presigned GET.
Scope: `all` (HR, admin) sees every document; `team` those about the caller's reporting line;
`self` only those about the caller. With a `team`/`self` grant one deletes only documents one
uploaded oneself (403 `filed-by-others`): a warning letter HR filed stays.
Delete is soft (`deletedAt`); the object stays for the bucket's retention. The bucket is versioned:
a document pins the object version it is (`s3VersionId`, recorded when its upload is first confirmed
by GET /documents/{id}, or by a backup) and downloads are signed for that version.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from uuid import UUID, uuid4

from hrms.auth import duties
from hrms.auth.scope import caller_employee_id, visible, visible_ids
from hrms.db.postgres import tenant_tx
from hrms.documents import repo, storage
from hrms.documents.models import Document, DocumentUpload, NewDocument
from hrms.documents.storage import UPLOAD_TTL_S
from hrms.employees import repo as employees
from hrms.errors import NotFound
from hrms.pagination import Page, decode_keyset, encode_cursor
from hrms.tenancy import Actor, Tenant


def create_document(tenant: Tenant, actor: Actor, scope: str, body: NewDocument) -> DocumentUpload:
    employee_id = _owner_for_write(tenant, actor, scope, body.employee_id)
    document_id = str(uuid4())
    key = storage.object_key(tenant.tenant_id, document_id, body.file_name)
    doc = repo.insert(
        tenant,
        actor,
        document_id=document_id,
        employee_id=None if employee_id is None else str(employee_id),
        category=body.category,
        file_name=body.file_name,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        expires_on=body.expires_on,
        s3_key=key,
    )
    return DocumentUpload(
        document_id=document_id,
        s3_key=key,
        upload_url=storage.upload_url(key, body.content_type, body.size_bytes),
        upload_headers={"Content-Type": body.content_type, "Content-Length": str(body.size_bytes)},
        expires_in=UPLOAD_TTL_S,
        document=_public(doc, with_url=False),
    )


def get_document(tenant: Tenant, actor: Actor, scope: str, document_id: UUID) -> Document:
    """The document; the first time its upload is seen complete, the object's version is pinned to it."""
    doc = _visible_or_404(tenant, actor, scope, document_id)
    uploaded, version_id = storage.uploaded_version(doc.s3_key, doc.size_bytes, doc.s3_version_id)
    if uploaded and version_id and doc.s3_version_id is None:
        repo.pin_version(tenant, doc.document_id, version_id)
        doc = replace(doc, s3_version_id=version_id)
    return _public(doc, with_url=True).model_copy(update={"uploaded": uploaded})


def delete_document(tenant: Tenant, actor: Actor, scope: str, document_id: UUID) -> None:
    doc = _visible_or_404(tenant, actor, scope, document_id)
    if scope != "all" and doc.created_by != actor.user_id:
        raise duties.refuse("filed-by-others", "Only HR may delete a document someone else filed.")
    if not repo.soft_delete(tenant, actor, doc.document_id):
        raise NotFound("No such document.")  # deleted meanwhile


def list_documents(
    tenant: Tenant,
    actor: Actor,
    scope: str,
    *,
    employee_id: UUID | None,
    category: str | None,
    expires_before: date | None,
    limit: int,
    cursor: str | None,
) -> Page[Document]:
    """Newest first; `expires_before` lists documents expiring on or before a date (soonest first)."""
    seen = _visible_employees(tenant, actor, scope)
    if seen is not None and employee_id is not None and str(employee_id) not in seen:
        return Page(items=[])
    by_expiry = expires_before is not None
    docs = repo.live_page(
        tenant,
        among=None if seen is None else sorted(seen),
        employee_id=None if employee_id is None else str(employee_id),
        category=category or None,
        expires_before=expires_before,
        after=decode_keyset(cursor, str if by_expiry else datetime.fromisoformat, str),  # expiresOn as stored text
        limit=limit + 1,
    )
    page = docs[:limit]
    next_cursor = None
    if len(docs) > limit:
        last = page[-1]
        first_key = last.expires_on if by_expiry else last.created_at
        assert first_key is not None  # listed by expiry: only documents that expire
        next_cursor = encode_cursor([first_key.isoformat(), last.document_id])
    return Page(items=[_public(d, with_url=True) for d in page], next_cursor=next_cursor)


def _visible_or_404(tenant: Tenant, actor: Actor, scope: str, document_id: UUID) -> repo.StoredDocument:
    doc = repo.find_live(tenant, str(document_id))
    seen = _visible_employees(tenant, actor, scope)
    if doc is None or (seen is not None and doc.employee_id not in seen):
        raise NotFound("No such document.")
    return doc


def _visible_employees(tenant: Tenant, actor: Actor, scope: str) -> set[str] | None:
    """None when the caller sees everything; else the ids of the employees the scope reaches."""
    if scope == "all":
        return None
    with tenant_tx(tenant, actor) as tx:
        return visible_ids(tx, scope, actor)


def _owner_for_write(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID | None) -> UUID | None:
    """The employee the document is about: as given (default with a scoped grant: the caller), in scope."""
    with tenant_tx(tenant, actor) as tx:
        target = employee_id if scope == "all" else employee_id or caller_employee_id(tx, actor)
        if scope != "all" and target is None:
            raise NotFound("No such employee.")
        if target is not None and employees.find(tx, target, visible(tx, scope, actor)) is None:
            raise NotFound("No such employee.")
    return target


def _public(doc: repo.StoredDocument, *, with_url: bool) -> Document:
    return Document(
        document_id=doc.document_id,
        employee_id=doc.employee_id,
        category=doc.category,
        file_name=doc.file_name,
        content_type=doc.content_type,
        size_bytes=doc.size_bytes,
        expires_on=doc.expires_on,
        s3_key=doc.s3_key,
        created_at=doc.created_at,
        created_by=doc.created_by,
        download_url=storage.download_url(doc.s3_key, doc.file_name, doc.s3_version_id) if with_url else None,
    )
