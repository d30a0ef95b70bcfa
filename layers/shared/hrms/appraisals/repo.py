"""Store access of the appraisals domain: `AppraisalForm` (one document per form version, `_id` =
"formId:version", `latest` on the newest) and `Appraisal` in MongoDB, and the one PostgreSQL
read it needs (an employee's manager, the default reviewer).

Documents come out typed as `Form` and `StoredAppraisal`, each built from the stored dict in one
place (`_form`, `_appraisal`); `tenantId`, `latest` and `_pendingAudit` stay here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from psycopg import sql

from hrms.db import mongo_audit, rows
from hrms.db.mongo_audit import Change
from hrms.db.postgres import TenantTx
from hrms.db.tenant_collection import collection
from hrms.tenancy import Actor, Tenant

FORMS = "AppraisalForm"
APPRAISALS = "Appraisal"
Status = Literal["draft", "submitted", "reviewed"]


@dataclass(frozen=True)
class Form:
    """One version of an `AppraisalForm`; `fields` as `FormField` dumps them (checked by `validation`)."""

    form_id: str
    version: int
    name: str
    cycle: str
    fields: list[dict[str, Any]]
    allow_self_assessment: bool
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class StoredAppraisal:
    """An `Appraisal` document."""

    appraisal_id: str
    form_id: str
    form_version: int
    employee_id: str
    reviewer_id: str | None
    responses: dict[str, Any]
    status: Status
    created_at: datetime
    created_by: str
    submitted_at: datetime | None
    submitted_by: str | None
    reviewed_at: datetime | None
    reviewed_by: str | None


# ---------------------------------------------------------------- forms


def insert_form(
    tenant: Tenant,
    actor: Actor,
    form_id: str,
    version: int,
    *,
    name: str,
    cycle: str,
    fields: list[dict[str, Any]],
    allow_self_assessment: bool,
) -> Form:
    """Version `version` of the form, audited; `Conflict` if that version exists already."""
    doc = {
        "_id": f"{form_id}:{version}",
        "formId": form_id,
        "version": version,
        "latest": True,
        "name": name,
        "cycle": cycle,
        "fields": fields,
        "allowSelfAssessment": allow_self_assessment,
        "createdAt": datetime.now(UTC),
        "createdBy": actor.user_id,
    }
    change = Change("create" if version == 1 else "update", "appraisal_form", form_id, None, doc)
    mongo_audit.insert(collection(tenant, FORMS), actor, doc, change)
    return _form(doc)


def supersede(tenant: Tenant, form_id: str, version: int) -> None:
    """The versions of the form below `version` are no longer its latest."""
    collection(tenant, FORMS).update_many({"formId": form_id, "version": {"$lt": version}}, {"$set": {"latest": False}})


def find_form(tenant: Tenant, form_id: str, version: int | None) -> Form | None:
    """That version of the form, or its newest when `version` is None."""
    flt: dict[str, Any] = {"formId": form_id}
    if version is not None:
        flt["version"] = version
    found = collection(tenant, FORMS).find(flt, sort=[("version", -1)], limit=1)
    return _form(found[0]) if found else None


def latest_forms(tenant: Tenant, cycle: str | None) -> list[Form]:
    """The newest version of every form (of `cycle`, if given), newest form first."""
    flt: dict[str, Any] = {"latest": True}
    if cycle:
        flt["cycle"] = cycle
    return [_form(d) for d in collection(tenant, FORMS).find(flt, sort=[("createdAt", -1)], limit=500)]


# ---------------------------------------------------------------- appraisals


def insert_appraisal(
    tenant: Tenant,
    actor: Actor,
    appraisal_id: str,
    *,
    form: Form,
    employee_id: str,
    reviewer_id: str | None,
    responses: dict[str, Any],
) -> StoredAppraisal:
    """A draft appraisal against `form`, audited."""
    doc = {
        "_id": appraisal_id,
        "formId": form.form_id,
        "formVersion": form.version,
        "employeeId": employee_id,
        "reviewerId": reviewer_id,
        "responses": responses,
        "status": "draft",
        "createdAt": datetime.now(UTC),
        "createdBy": actor.user_id,
    }
    mongo_audit.insert(
        collection(tenant, APPRAISALS), actor, doc, Change("create", "appraisal", appraisal_id, None, doc)
    )
    return _appraisal(doc)


def find_appraisal(tenant: Tenant, appraisal_id: str) -> StoredAppraisal | None:
    doc = collection(tenant, APPRAISALS).find_one({"_id": appraisal_id})
    return None if doc is None else _appraisal(doc)


def advance(tenant: Tenant, actor: Actor, current: StoredAppraisal, target: Status) -> StoredAppraisal | None:
    """`current` moved to status `target` (stamped with when and by whom), audited; None when its
    status changed since it was read (nothing written)."""
    if target == "submitted":
        stamp, before = "submitted", {"submittedAt": current.submitted_at, "submittedBy": current.submitted_by}
    else:
        stamp, before = "reviewed", {"reviewedAt": current.reviewed_at, "reviewedBy": current.reviewed_by}
    fields = {"status": target, f"{stamp}At": datetime.now(UTC), f"{stamp}By": actor.user_id}
    # The audit keeps only what changed, so each side names just the changed fields.
    change = Change(target, "appraisal", current.appraisal_id, {"status": current.status, **before}, fields)
    after = mongo_audit.update(
        collection(tenant, APPRAISALS),
        actor,
        {"_id": current.appraisal_id, "status": current.status},
        {"$set": fields},
        change,
    )
    return None if after is None else _appraisal(after)


def appraisal_page(
    tenant: Tenant,
    *,
    among: list[str] | None,
    employee_id: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[StoredAppraisal]:
    """Appraisals of `employee_id` (else of any of `among`, else of anyone), newest first, after the
    (createdAt, _id) of the previous page's last one."""
    flt: dict[str, Any] = {}
    if among is not None:
        flt["employeeId"] = {"$in": among}
    if employee_id is not None:
        flt["employeeId"] = employee_id
    if status:
        flt["status"] = status
    if after is not None:
        at, last_id = after
        flt["$or"] = [{"createdAt": {"$lt": at}}, {"createdAt": at, "_id": {"$lt": last_id}}]
    docs = collection(tenant, APPRAISALS).find(flt, sort=[("createdAt", -1), ("_id", -1)], limit=limit)
    return [_appraisal(d) for d in docs]


# ---------------------------------------------------------------- PostgreSQL


def manager_of(tx: TenantTx, employee_id: UUID) -> UUID | None:
    """The employee's reporting manager (None if none, or no such employee)."""
    query = sql.SQL("SELECT manager_id FROM {} WHERE id = %s").format(tx.t("employees"))
    manager: UUID | None = rows.scalar(tx, query, (employee_id,))
    return manager


# ---------------------------------------------------------------- documents -> shapes


def _form(doc: dict[str, Any]) -> Form:
    return Form(
        form_id=doc["formId"],
        version=doc["version"],
        name=doc["name"],
        cycle=doc["cycle"],
        fields=doc["fields"],
        allow_self_assessment=bool(doc.get("allowSelfAssessment")),
        created_at=doc["createdAt"],
        created_by=doc["createdBy"],
    )


def _appraisal(doc: dict[str, Any]) -> StoredAppraisal:
    return StoredAppraisal(
        appraisal_id=doc["_id"],
        form_id=doc["formId"],
        form_version=doc["formVersion"],
        employee_id=doc["employeeId"],
        reviewer_id=doc.get("reviewerId"),
        responses=doc["responses"],
        status=doc["status"],
        created_at=doc["createdAt"],
        created_by=doc["createdBy"],
        submitted_at=doc.get("submittedAt"),
        submitted_by=doc.get("submittedBy"),
        reviewed_at=doc.get("reviewedAt"),
        reviewed_by=doc.get("reviewedBy"),
    )
