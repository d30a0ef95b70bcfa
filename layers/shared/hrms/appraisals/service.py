"""Appraisal forms (versioned) and appraisals (draft -> submitted -> reviewed) in MongoDB.

A form is one document per version (`formId`, `version`, unique per tenant); changing a form
inserts the next version, so an appraisal keeps answering the version it was created against.
Scope comes from the caller's permission: `all`, `team` (reporting line) or `self`; appraisals
of employees outside it are not found (404, also as the subject of a new one). Duties: one's own
appraisal exists only as a self-assessment, on a form that allows it (403 `self-decision`
otherwise); its review step (submitted -> reviewed) belongs to the assigned reviewer (by default
the employee's reporting manager) within their scope, HR or admin (`all` scope), never to the employee (403
`review-by-reviewer` / `self-decision`). Forms are organisation-level (`appraisal-forms:*`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg import sql

from hrms.appraisals.models import Appraisal, AppraisalForm, NewAppraisal, NewAppraisalForm
from hrms.appraisals.validation import check_responses
from hrms.auth import duties
from hrms.auth.scope import caller_employee_id, visible, visible_ids
from hrms.db import mongo_audit
from hrms.db.mongo_audit import Change
from hrms.db.postgres import tenant_tx
from hrms.db.tenant_collection import collection
from hrms.employees import repo as employees
from hrms.errors import Conflict, Invalid, NotFound
from hrms.pagination import Page, decode_keyset, encode_cursor
from hrms.tenancy import Actor, Tenant

FORMS = "AppraisalForm"
APPRAISALS = "Appraisal"
NEXT_STATUS = {"draft": "submitted", "submitted": "reviewed"}


def create_form(tenant: Tenant, actor: Actor, body: NewAppraisalForm) -> AppraisalForm:
    return _insert_form(tenant, actor, str(uuid4()), 1, body)


def update_form(tenant: Tenant, actor: Actor, form_id: UUID, body: NewAppraisalForm) -> AppraisalForm:
    """A new version; concurrent updates of one version: one wins, the other is a 409."""
    latest = _form(tenant, form_id, None)
    form = _insert_form(tenant, actor, str(form_id), latest["version"] + 1, body)
    collection(tenant, FORMS).update_many(
        {"formId": str(form_id), "version": {"$lt": form.version}}, {"$set": {"latest": False}}
    )
    return form


def get_form(tenant: Tenant, form_id: UUID, version: int | None) -> AppraisalForm:
    return _form_out(_form(tenant, form_id, version))


def list_forms(tenant: Tenant, cycle: str | None) -> Page[AppraisalForm]:
    flt: dict[str, Any] = {"latest": True}
    if cycle:
        flt["cycle"] = cycle
    return Page(items=[_form_out(d) for d in collection(tenant, FORMS).find(flt, sort=[("createdAt", -1)], limit=500)])


def create_appraisal(tenant: Tenant, actor: Actor, scope: str, body: NewAppraisal) -> Appraisal:
    _employee_in_scope(tenant, actor, scope, body.employee_id)
    form = _form(tenant, body.form_id, None)
    reviewer_id = _check_parties(tenant, actor, body, bool(form.get("allowSelfAssessment")))
    check_responses(form["fields"], body.responses, complete=False)
    doc = {
        "_id": str(uuid4()),
        "formId": form["formId"],
        "formVersion": form["version"],
        "employeeId": str(body.employee_id),
        "reviewerId": None if reviewer_id is None else str(reviewer_id),
        "responses": body.responses,
        "status": "draft",
        "createdAt": datetime.now(UTC),
        "createdBy": actor.user_id,
    }
    mongo_audit.insert(collection(tenant, APPRAISALS), actor, doc, Change("create", "appraisal", doc["_id"], None, doc))
    return _appraisal_out(doc)


def get_appraisal(tenant: Tenant, actor: Actor, scope: str, appraisal_id: UUID) -> Appraisal:
    return _appraisal_out(_appraisal(tenant, actor, scope, appraisal_id))


def submit_appraisal(tenant: Tenant, actor: Actor, scope: str, appraisal_id: UUID) -> Appraisal:
    """draft -> submitted (every required answer present) -> reviewed; a concurrent double submit is a 409."""
    doc = _appraisal(tenant, actor, scope, appraisal_id)
    status = doc["status"]
    if status not in NEXT_STATUS:
        raise Conflict("This appraisal has already been reviewed.")
    if status == "submitted":
        _check_reviewer(tenant, actor, scope, doc)
    form = _form(tenant, UUID(doc["formId"]), doc["formVersion"])
    check_responses(form["fields"], doc["responses"], complete=True)
    target = NEXT_STATUS[status]
    stamp = "submittedAt" if target == "submitted" else "reviewedAt"
    fields = {"status": target, stamp: datetime.now(UTC), f"{stamp[:-2]}By": actor.user_id}
    after = mongo_audit.update(
        collection(tenant, APPRAISALS),
        actor,
        {"_id": doc["_id"], "status": status},
        {"$set": fields},
        Change(target, "appraisal", doc["_id"], doc, {**doc, **fields}),
    )
    if after is None:
        raise Conflict("The appraisal changed meanwhile; reload it.")
    return _appraisal_out(after)


def list_appraisals(
    tenant: Tenant,
    actor: Actor,
    scope: str,
    *,
    employee_id: UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Appraisal]:
    flt: dict[str, Any] = {}
    if scope != "all":
        allowed = _visible_employees(tenant, actor, scope)
        if employee_id is not None and str(employee_id) not in allowed:
            return Page(items=[])
        flt["employeeId"] = {"$in": sorted(allowed)}
    if employee_id is not None:
        flt["employeeId"] = str(employee_id)
    if status:
        flt["status"] = status
    after = decode_keyset(cursor, datetime.fromisoformat, str)
    if after:
        at, last_id = after
        flt["$or"] = [{"createdAt": {"$lt": at}}, {"createdAt": at, "_id": {"$lt": last_id}}]
    docs = collection(tenant, APPRAISALS).find(flt, sort=[("createdAt", -1), ("_id", -1)], limit=limit + 1)
    page = docs[:limit]
    next_cursor = encode_cursor([page[-1]["createdAt"].isoformat(), page[-1]["_id"]]) if len(docs) > limit else None
    return Page(items=[_appraisal_out(d) for d in page], next_cursor=next_cursor)


def _insert_form(tenant: Tenant, actor: Actor, form_id: str, version: int, body: NewAppraisalForm) -> AppraisalForm:
    doc = {
        "_id": f"{form_id}:{version}",
        "formId": form_id,
        "version": version,
        "latest": True,
        "name": body.name,
        "cycle": body.cycle,
        "fields": [f.model_dump(exclude_none=True) for f in body.fields],
        "allowSelfAssessment": body.allow_self_assessment,
        "createdAt": datetime.now(UTC),
        "createdBy": actor.user_id,
    }
    change = Change("create" if version == 1 else "update", "appraisal_form", form_id, None, doc)
    try:
        mongo_audit.insert(collection(tenant, FORMS), actor, doc, change)
    except Conflict:
        raise Conflict("The form was changed by someone else; reload and retry.") from None
    return _form_out(doc)


def _form(tenant: Tenant, form_id: UUID, version: int | None) -> dict[str, Any]:
    flt: dict[str, Any] = {"formId": str(form_id)}
    if version is not None:
        flt["version"] = version
    found = collection(tenant, FORMS).find(flt, sort=[("version", -1)], limit=1)
    if not found:
        raise NotFound("No such appraisal form.")
    return found[0]


def _appraisal(tenant: Tenant, actor: Actor, scope: str, appraisal_id: UUID) -> dict[str, Any]:
    doc = collection(tenant, APPRAISALS).find_one({"_id": str(appraisal_id)})
    if doc is None or (scope != "all" and doc["employeeId"] not in _visible_employees(tenant, actor, scope)):
        raise NotFound("No such appraisal.")
    return doc


def _me(tenant: Tenant, actor: Actor) -> str | None:
    with tenant_tx(tenant, actor) as tx:
        me = caller_employee_id(tx, actor)
    return None if me is None else str(me)


def _check_parties(tenant: Tenant, actor: Actor, body: NewAppraisal, allows_self_assessment: bool) -> UUID | None:
    """One's own appraisal only as a self-assessment; the reviewer (default: the employee's manager)
    exists and is not the employee."""
    with tenant_tx(tenant, actor) as tx:
        if str(caller_employee_id(tx, actor)) == str(body.employee_id) and not allows_self_assessment:
            raise duties.refuse("self-decision", "This form allows no self-assessment: someone else appraises you.")
        reviewer = body.reviewer_id
        if reviewer is None:
            row = tx.execute(
                sql.SQL("SELECT manager_id FROM {} WHERE id = %s").format(tx.t("employees")), (body.employee_id,)
            ).fetchone()
            reviewer = row["manager_id"] if row else None
        reviewer_known = body.reviewer_id is None or employees.exists(tx, "employees", body.reviewer_id)
    if body.reviewer_id is not None:
        if not reviewer_known:
            raise Invalid(
                "The reviewer is not an employee.",
                errors=[{"field": "reviewerId", "type": "not_found", "message": "no such employee"}],
            )
        if body.reviewer_id == body.employee_id:
            raise Invalid(
                "Nobody reviews their own appraisal.",
                errors=[{"field": "reviewerId", "type": "self_review", "message": "must differ from employeeId"}],
            )
    return reviewer


def _check_reviewer(tenant: Tenant, actor: Actor, scope: str, doc: dict[str, Any]) -> None:
    me = _me(tenant, actor)
    if me is not None and me == doc["employeeId"]:
        raise duties.refuse("self-decision", "Nobody reviews their own appraisal.")
    if scope != "all" and (me is None or me != doc.get("reviewerId")):
        raise duties.refuse("review-by-reviewer", "The review belongs to the appraisal's reviewer, HR or an admin.")


def _visible_employees(tenant: Tenant, actor: Actor, scope: str) -> set[str]:
    with tenant_tx(tenant, actor) as tx:
        return visible_ids(tx, scope, actor)


def _employee_in_scope(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID) -> None:
    with tenant_tx(tenant, actor) as tx:
        if employees.find(tx, employee_id, visible(tx, scope, actor)) is None:
            raise NotFound("No such employee.")


def _form_out(doc: dict[str, Any]) -> AppraisalForm:
    return AppraisalForm(
        form_id=doc["formId"],
        version=doc["version"],
        name=doc["name"],
        cycle=doc["cycle"],
        fields=doc["fields"],
        allow_self_assessment=bool(doc.get("allowSelfAssessment")),
        created_at=doc["createdAt"],
        created_by=doc["createdBy"],
    )


def _appraisal_out(doc: dict[str, Any]) -> Appraisal:
    return Appraisal(
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
        reviewed_at=doc.get("reviewedAt"),
    )
