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

from datetime import datetime
from uuid import UUID, uuid4

from hrms.appraisals import repo
from hrms.appraisals.models import Appraisal, AppraisalForm, NewAppraisal, NewAppraisalForm
from hrms.appraisals.validation import check_responses
from hrms.auth import duties
from hrms.auth.scope import caller_employee_id, visible, visible_ids
from hrms.db import rows
from hrms.db.postgres import tenant_tx
from hrms.employees import repo as employees
from hrms.errors import Conflict, Invalid, NotFound
from hrms.pagination import Page, decode_keyset, encode_cursor
from hrms.tenancy import Actor, Tenant

NEXT_STATUS: dict[str, repo.Status] = {"draft": "submitted", "submitted": "reviewed"}


def create_form(tenant: Tenant, actor: Actor, body: NewAppraisalForm) -> AppraisalForm:
    return _insert_form(tenant, actor, str(uuid4()), 1, body)


def update_form(tenant: Tenant, actor: Actor, form_id: UUID, body: NewAppraisalForm) -> AppraisalForm:
    """A new version; concurrent updates of one version: one wins, the other is a 409."""
    latest = _form(tenant, form_id, None)
    form = _insert_form(tenant, actor, str(form_id), latest.version + 1, body)
    repo.supersede(tenant, str(form_id), form.version)
    return form


def get_form(tenant: Tenant, form_id: UUID, version: int | None) -> AppraisalForm:
    return _form_out(_form(tenant, form_id, version))


def list_forms(tenant: Tenant, cycle: str | None) -> Page[AppraisalForm]:
    return Page(items=[_form_out(f) for f in repo.latest_forms(tenant, cycle)])


def create_appraisal(tenant: Tenant, actor: Actor, scope: str, body: NewAppraisal) -> Appraisal:
    _employee_in_scope(tenant, actor, scope, body.employee_id)
    form = _form(tenant, body.form_id, None)
    reviewer_id = _check_parties(tenant, actor, body, form.allow_self_assessment)
    check_responses(form.fields, body.responses, complete=False)
    created = repo.insert_appraisal(
        tenant,
        actor,
        str(uuid4()),
        form=form,
        employee_id=str(body.employee_id),
        reviewer_id=None if reviewer_id is None else str(reviewer_id),
        responses=body.responses,
    )
    return _appraisal_out(created)


def get_appraisal(tenant: Tenant, actor: Actor, scope: str, appraisal_id: UUID) -> Appraisal:
    return _appraisal_out(_appraisal(tenant, actor, scope, appraisal_id))


def submit_appraisal(tenant: Tenant, actor: Actor, scope: str, appraisal_id: UUID) -> Appraisal:
    """draft -> submitted (every required answer present) -> reviewed; a concurrent double submit is a 409."""
    doc = _appraisal(tenant, actor, scope, appraisal_id)
    if doc.status not in NEXT_STATUS:
        raise Conflict("This appraisal has already been reviewed.")
    if doc.status == "submitted":
        _check_reviewer(tenant, actor, scope, doc)
    form = _form(tenant, UUID(doc.form_id), doc.form_version)
    check_responses(form.fields, doc.responses, complete=True)
    after = repo.advance(tenant, actor, doc, NEXT_STATUS[doc.status])
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
    among: list[str] | None = None
    if scope != "all":
        allowed = _visible_employees(tenant, actor, scope)
        if employee_id is not None and str(employee_id) not in allowed:
            return Page(items=[])
        among = sorted(allowed)
    after = decode_keyset(cursor, datetime.fromisoformat, str)
    docs = repo.appraisal_page(
        tenant,
        among=among,
        employee_id=None if employee_id is None else str(employee_id),
        status=status or None,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    page = docs[:limit]
    next_cursor = encode_cursor([page[-1].created_at.isoformat(), page[-1].appraisal_id]) if len(docs) > limit else None
    return Page(items=[_appraisal_out(d) for d in page], next_cursor=next_cursor)


def _insert_form(tenant: Tenant, actor: Actor, form_id: str, version: int, body: NewAppraisalForm) -> AppraisalForm:
    try:
        form = repo.insert_form(
            tenant,
            actor,
            form_id,
            version,
            name=body.name,
            cycle=body.cycle,
            fields=[f.model_dump(exclude_none=True) for f in body.fields],
            allow_self_assessment=body.allow_self_assessment,
        )
    except Conflict:
        raise Conflict("The form was changed by someone else; reload and retry.") from None
    return _form_out(form)


def _form(tenant: Tenant, form_id: UUID, version: int | None) -> repo.Form:
    form = repo.find_form(tenant, str(form_id), version)
    if form is None:
        raise NotFound("No such appraisal form.")
    return form


def _appraisal(tenant: Tenant, actor: Actor, scope: str, appraisal_id: UUID) -> repo.StoredAppraisal:
    doc = repo.find_appraisal(tenant, str(appraisal_id))
    if doc is None or (scope != "all" and doc.employee_id not in _visible_employees(tenant, actor, scope)):
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
            reviewer = repo.manager_of(tx, body.employee_id)
        reviewer_known = body.reviewer_id is None or rows.exists(tx, "employees", body.reviewer_id)
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


def _check_reviewer(tenant: Tenant, actor: Actor, scope: str, doc: repo.StoredAppraisal) -> None:
    me = _me(tenant, actor)
    if me is not None and me == doc.employee_id:
        raise duties.refuse("self-decision", "Nobody reviews their own appraisal.")
    if scope != "all" and (me is None or me != doc.reviewer_id):
        raise duties.refuse("review-by-reviewer", "The review belongs to the appraisal's reviewer, HR or an admin.")


def _visible_employees(tenant: Tenant, actor: Actor, scope: str) -> set[str]:
    with tenant_tx(tenant, actor) as tx:
        return visible_ids(tx, scope, actor)


def _employee_in_scope(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID) -> None:
    with tenant_tx(tenant, actor) as tx:
        if employees.find(tx, employee_id, visible(tx, scope, actor)) is None:
            raise NotFound("No such employee.")


def _form_out(form: repo.Form) -> AppraisalForm:
    return AppraisalForm(
        form_id=form.form_id,
        version=form.version,
        name=form.name,
        cycle=form.cycle,
        fields=form.fields,
        allow_self_assessment=form.allow_self_assessment,
        created_at=form.created_at,
        created_by=form.created_by,
    )


def _appraisal_out(doc: repo.StoredAppraisal) -> Appraisal:
    return Appraisal(
        appraisal_id=doc.appraisal_id,
        form_id=doc.form_id,
        form_version=doc.form_version,
        employee_id=doc.employee_id,
        reviewer_id=doc.reviewer_id,
        responses=doc.responses,
        status=doc.status,
        created_at=doc.created_at,
        created_by=doc.created_by,
        submitted_at=doc.submitted_at,
        reviewed_at=doc.reviewed_at,
    )
