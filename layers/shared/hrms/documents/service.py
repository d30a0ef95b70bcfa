"""Documents: metadata in MongoDB (`DocumentMetadata`), contents in S3 under tenants/{tenantId}/documents/.

Uploads and downloads never pass through Lambda: POST returns a presigned PUT whose signature
covers the declared Content-Type and Content-Length, GET returns a short-lived presigned GET.
Scope: `all` (HR, admin) sees every document; `team` those about the caller's reporting line;
`self` only those about the caller. With a `team`/`self` grant one deletes only documents one
uploaded oneself (403 `filed-by-others`): a warning letter HR filed stays.
Delete is soft (`deletedAt`); the object stays for the bucket's retention.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from uuid import UUID, uuid4

from hrms.auth import duties
from hrms.auth.scope import caller_employee_id, visible, visible_ids
from hrms.config import settings
from hrms.db import mongo_audit
from hrms.db.mongo_audit import Change
from hrms.db.postgres import tenant_tx
from hrms.db.tenant_collection import collection
from hrms.documents.models import Document, DocumentUpload, NewDocument
from hrms.employees import repo as employees
from hrms.errors import BadRequest, NotFound
from hrms.pagination import Page, decode_cursor, encode_cursor
from hrms.tenancy import Actor, Tenant

DOCS = "DocumentMetadata"
UPLOAD_TTL_S = 900
DOWNLOAD_TTL_S = 300
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def create_document(tenant: Tenant, actor: Actor, scope: str, body: NewDocument) -> DocumentUpload:
    employee_id = _owner_for_write(tenant, actor, scope, body.employee_id)
    document_id = str(uuid4())
    safe_name = _UNSAFE.sub("_", body.file_name).strip("._") or "file"
    key = f"tenants/{tenant.tenant_id}/documents/{document_id}/{safe_name}"
    doc = {
        "_id": document_id,
        "employeeId": None if employee_id is None else str(employee_id),
        "category": body.category,
        "fileName": body.file_name,
        "contentType": body.content_type,
        "sizeBytes": body.size_bytes,
        "expiresOn": body.expires_on.isoformat() if body.expires_on else None,
        "s3Key": key,
        "createdAt": datetime.now(UTC),
        "createdBy": actor.user_id,
        "deletedAt": None,
    }
    mongo_audit.insert(collection(tenant, DOCS), actor, doc, Change("create", "document", document_id, None, doc))
    url = _presigner().generate_presigned_url(
        "put_object",
        Params={
            "Bucket": settings().documents_bucket,
            "Key": key,
            "ContentType": body.content_type,
            "ContentLength": body.size_bytes,
        },
        ExpiresIn=UPLOAD_TTL_S,
    )
    return DocumentUpload(
        document_id=document_id,
        s3_key=key,
        upload_url=url,
        upload_headers={"Content-Type": body.content_type, "Content-Length": str(body.size_bytes)},
        expires_in=UPLOAD_TTL_S,
        document=_public(doc, with_url=False),
    )


def get_document(tenant: Tenant, actor: Actor, scope: str, document_id: UUID) -> Document:
    doc = _visible_or_404(tenant, actor, scope, document_id)
    return _public(doc, with_url=True).model_copy(update={"uploaded": _uploaded(doc)})


def delete_document(tenant: Tenant, actor: Actor, scope: str, document_id: UUID) -> None:
    doc = _visible_or_404(tenant, actor, scope, document_id)
    if scope != "all" and doc.get("createdBy") != actor.user_id:
        raise duties.refuse("filed-by-others", "Only HR may delete a document someone else filed.")
    now = datetime.now(UTC)
    fields = {"deletedAt": now, "deletedBy": actor.user_id}
    change = Change("delete", "document", doc["_id"], doc, {**doc, **fields})
    live = {"_id": doc["_id"], "deletedAt": None}
    if mongo_audit.update(collection(tenant, DOCS), actor, live, {"$set": fields}, change) is None:
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
    flt: dict[str, Any] = {"deletedAt": None}
    seen = _visible_employees(tenant, actor, scope)
    if seen is not None:
        if employee_id is not None and str(employee_id) not in seen:
            return Page(items=[])
        flt["employeeId"] = {"$in": sorted(seen)}
    if employee_id is not None:
        flt["employeeId"] = str(employee_id)
    if category:
        flt["category"] = category
    order = [("createdAt", -1), ("_id", -1)]
    if expires_before is not None:
        flt["expiresOn"] = {"$ne": None, "$lte": expires_before.isoformat()}
        order = [("expiresOn", 1), ("_id", 1)]
    after = decode_cursor(cursor)
    if after:
        flt.update(_after(order, after))
    docs = collection(tenant, DOCS).find(flt, sort=order, limit=limit + 1)
    page = docs[:limit]
    next_cursor = None
    if len(docs) > limit:
        last = page[-1]
        first_key = last[order[0][0]]
        next_cursor = encode_cursor(
            [first_key.isoformat() if isinstance(first_key, datetime) else first_key, last["_id"]]
        )
    return Page(items=[_public(d, with_url=True) for d in page], next_cursor=next_cursor)


def _after(order: list[tuple[str, int]], after: list[str]) -> dict[str, Any]:
    if len(after) != 2:
        raise BadRequest("The cursor is not valid.")
    field, direction = order[0]
    value: Any = after[0]
    if field == "createdAt":
        try:
            value = datetime.fromisoformat(after[0])
        except ValueError as exc:
            raise BadRequest("The cursor is not valid.") from exc
    op = "$lt" if direction < 0 else "$gt"
    return {"$or": [{field: {op: value}}, {field: value, "_id": {op: after[1]}}]}


def _visible_or_404(tenant: Tenant, actor: Actor, scope: str, document_id: UUID) -> dict[str, Any]:
    doc = collection(tenant, DOCS).find_one({"_id": str(document_id), "deletedAt": None})
    seen = _visible_employees(tenant, actor, scope)
    if doc is None or (seen is not None and doc.get("employeeId") not in seen):
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


def _uploaded(doc: dict[str, Any]) -> bool:
    """Whether the presigned upload happened: the object exists with the declared size."""
    from botocore.exceptions import ClientError

    try:
        head = _presigner().head_object(Bucket=settings().documents_bucket, Key=doc["s3Key"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return bool(head["ContentLength"] == doc["sizeBytes"])


def _public(doc: dict[str, Any], *, with_url: bool) -> Document:
    url = None
    if with_url:
        url = _presigner().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": settings().documents_bucket,
                "Key": doc["s3Key"],
                "ResponseContentDisposition": f'attachment; filename="{_UNSAFE.sub("_", doc["fileName"])}"',
            },
            ExpiresIn=DOWNLOAD_TTL_S,
        )
    return Document(
        document_id=doc["_id"],
        employee_id=doc.get("employeeId"),
        category=doc["category"],
        file_name=doc["fileName"],
        content_type=doc["contentType"],
        size_bytes=doc["sizeBytes"],
        expires_on=doc.get("expiresOn"),
        s3_key=doc["s3Key"],
        created_at=doc["createdAt"],
        created_by=doc["createdBy"],
        download_url=url,
    )
