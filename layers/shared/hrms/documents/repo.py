"""MongoDB access of the documents domain: the `DocumentMetadata` collection.

Documents come out typed as `StoredDocument` (built from the stored dict in `_stored` only);
`tenantId` and `_pendingAudit` stay here. Delete is soft: `deletedAt` set, and every read here
sees live documents only.

`s3VersionId` pins the version of the object in the versioned documents bucket that the document is:
recorded when its upload is first confirmed (`pin_version`), and by every backup for documents that
have none yet (`hrms.backup.mongo_part`), so a restored document downloads the file as it was then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from hrms.db import mongo_audit
from hrms.db.mongo_audit import Change
from hrms.db.tenant_collection import collection
from hrms.tenancy import Actor, Tenant

DOCS = "DocumentMetadata"


@dataclass(frozen=True)
class StoredDocument:
    """A live `DocumentMetadata` document."""

    document_id: str
    employee_id: str | None
    category: str
    file_name: str
    content_type: str
    size_bytes: int
    expires_on: date | None
    s3_key: str
    created_at: datetime
    created_by: str
    s3_version_id: str | None = None


def insert(
    tenant: Tenant,
    actor: Actor,
    *,
    document_id: str,
    employee_id: str | None,
    category: str,
    file_name: str,
    content_type: str,
    size_bytes: int,
    expires_on: date | None,
    s3_key: str,
) -> StoredDocument:
    doc = {
        "_id": document_id,
        "employeeId": employee_id,
        "category": category,
        "fileName": file_name,
        "contentType": content_type,
        "sizeBytes": size_bytes,
        "expiresOn": expires_on.isoformat() if expires_on else None,
        "s3Key": s3_key,
        "createdAt": datetime.now(UTC),
        "createdBy": actor.user_id,
        "deletedAt": None,
    }
    mongo_audit.insert(collection(tenant, DOCS), actor, doc, Change("create", "document", document_id, None, doc))
    return _stored(doc)


def find_live(tenant: Tenant, document_id: str) -> StoredDocument | None:
    doc = collection(tenant, DOCS).find_one({"_id": document_id, "deletedAt": None})
    return None if doc is None else _stored(doc)


def pin_version(tenant: Tenant, document_id: str, version_id: str) -> None:
    """Record the object version a confirmed upload produced (only if none is recorded: the first wins).
    Not audited: it names what the audited create already promised, and changes nothing a user sees."""
    collection(tenant, DOCS).update_one(
        {"_id": document_id, "deletedAt": None, "s3VersionId": None}, {"$set": {"s3VersionId": version_id}}
    )


def soft_delete(tenant: Tenant, actor: Actor, document_id: str) -> bool:
    """Mark a live document deleted, audited; False when it was not live (deleted meanwhile)."""
    fields = {"deletedAt": datetime.now(UTC), "deletedBy": actor.user_id}
    # The audit keeps only what changed, so the before side names just the changed fields.
    change = Change("delete", "document", document_id, {"deletedAt": None, "deletedBy": None}, fields)
    live = {"_id": document_id, "deletedAt": None}
    return mongo_audit.update(collection(tenant, DOCS), actor, live, {"$set": fields}, change) is not None


def live_page(
    tenant: Tenant,
    *,
    among: list[str] | None,
    employee_id: str | None,
    category: str | None,
    expires_before: date | None,
    after: tuple[datetime | str, str] | None,
    limit: int,
) -> list[StoredDocument]:
    """Live documents about `employee_id` (else any of `among`, else anyone), newest first; with `expires_before`, those
    expiring on or before it, soonest first. `after` is the (createdAt or expiresOn, _id) of the
    previous page's last document."""
    flt: dict[str, Any] = {"deletedAt": None}
    if among is not None:
        flt["employeeId"] = {"$in": among}
    if employee_id is not None:
        flt["employeeId"] = employee_id
    if category:
        flt["category"] = category
    order = [("createdAt", -1), ("_id", -1)]
    if expires_before is not None:
        flt["expiresOn"] = {"$ne": None, "$lte": expires_before.isoformat()}
        order = [("expiresOn", 1), ("_id", 1)]
    if after is not None:
        field, direction = order[0]
        op = "$lt" if direction < 0 else "$gt"
        flt["$or"] = [{field: {op: after[0]}}, {field: after[0], "_id": {op: after[1]}}]
    return [_stored(d) for d in collection(tenant, DOCS).find(flt, sort=order, limit=limit)]


def _stored(doc: dict[str, Any]) -> StoredDocument:
    expires_on = doc.get("expiresOn")
    return StoredDocument(
        document_id=doc["_id"],
        employee_id=doc.get("employeeId"),
        category=doc["category"],
        file_name=doc["fileName"],
        content_type=doc["contentType"],
        size_bytes=doc["sizeBytes"],
        expires_on=None if expires_on is None else date.fromisoformat(expires_on),
        s3_key=doc["s3Key"],
        created_at=doc["createdAt"],
        created_by=doc["createdBy"],
        s3_version_id=doc.get("s3VersionId"),
    )
