"""Appraisal forms with dynamic versioned fields, and appraisals validated against their form version."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID, uuid4

import pytest

from hrms.appraisals import service
from hrms.appraisals.models import NewAppraisal, NewAppraisalForm
from hrms.errors import Conflict, Invalid, NotFound
from tests.integration.mongo_world import actor, as_tenant, employee_user

FIELDS: list[dict[str, Any]] = [
    {"key": "summary", "label": "Summary", "type": "text", "required": True},
    {"key": "goals", "label": "Goals met", "type": "number", "min": 0, "max": 10},
    {"key": "overall", "label": "Overall", "type": "rating", "required": True},
    {"key": "stars", "label": "Stars", "type": "rating", "min": 0, "max": 10},
    {"key": "track", "label": "Track", "type": "select", "options": ["ic", "manager"]},
    {"key": "next", "label": "Next review", "type": "date"},
]


def _form(tenant, who, fields=FIELDS, name="Annual 2025"):
    return service.create_form(tenant, who, NewAppraisalForm(name=name, cycle="2025", fields=fields))


def _errors(caught: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {e["field"]: e["type"] for e in caught.value.errors}


@pytest.mark.parametrize(
    ("responses", "bad"),
    [
        ({"summary": ""}, {"responses.summary": "invalid_text"}),
        ({"summary": 5}, {"responses.summary": "invalid_text"}),
        ({"goals": 11}, {"responses.goals": "invalid_number"}),
        ({"goals": -1}, {"responses.goals": "invalid_number"}),
        ({"goals": "7"}, {"responses.goals": "invalid_number"}),
        ({"goals": True}, {"responses.goals": "invalid_number"}),
        ({"overall": 6}, {"responses.overall": "invalid_rating"}),
        ({"overall": 0}, {"responses.overall": "invalid_rating"}),
        ({"overall": 3.5}, {"responses.overall": "invalid_rating"}),
        ({"stars": 11}, {"responses.stars": "invalid_rating"}),
        ({"track": "director"}, {"responses.track": "invalid_select"}),
        ({"next": "2025-02-30"}, {"responses.next": "invalid_date"}),
        ({"next": "tomorrow"}, {"responses.next": "invalid_date"}),
        ({"bogus": 1}, {"responses.bogus": "unknown_field"}),
        (
            {"goals": 99, "overall": 9, "track": "x", "extra": 1},
            {
                "responses.goals": "invalid_number",
                "responses.overall": "invalid_rating",
                "responses.track": "invalid_select",
                "responses.extra": "unknown_field",
            },
        ),
    ],
)
def test_each_bad_answer_is_listed(tenant, responses, bad):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    _, emp = employee_user(t, "employee")
    form = _form(t, hr)
    with pytest.raises(Invalid) as caught:
        service.create_appraisal(t, hr, "all", NewAppraisal(form_id=form.form_id, employee_id=emp, responses=responses))
    assert _errors(caught) == bad


def test_valid_answers_including_custom_scale_and_boundaries_are_accepted(tenant):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    _, emp = employee_user(t, "employee")
    form = _form(t, hr)
    answers = {"summary": "Great", "goals": 0, "overall": 5, "stars": 0, "track": "ic", "next": "2026-01-31"}
    created = service.create_appraisal(
        t, hr, "all", NewAppraisal(form_id=form.form_id, employee_id=emp, responses=answers)
    )
    assert (created.status, created.form_version, created.responses) == ("draft", 1, answers)


@pytest.mark.parametrize(
    "field",
    [
        {"key": "s", "label": "S", "type": "select"},
        {"key": "t", "label": "T", "type": "text", "min": 1},
        {"key": "n", "label": "N", "type": "number", "min": 5, "max": 1},
        {"key": "r", "label": "R", "type": "rating", "min": 0.5, "max": 3},
        {"key": "bad key", "label": "B", "type": "text"},
        {"key": "x", "label": "X", "type": "color"},
    ],
)
def test_malformed_form_fields_are_refused(field):
    with pytest.raises(ValueError):
        NewAppraisalForm(name="F", cycle="c", fields=[field])


def test_duplicate_field_keys_are_refused():
    with pytest.raises(ValueError, match="unique"):
        NewAppraisalForm(name="F", cycle="c", fields=[FIELDS[0], FIELDS[0]])


def test_updating_a_form_adds_a_version_and_old_appraisals_keep_theirs(tenant):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    _, emp = employee_user(t, "employee")
    v1 = _form(t, hr)
    old = service.create_appraisal(
        t, hr, "all", NewAppraisal(form_id=v1.form_id, employee_id=emp, responses={"summary": "ok", "overall": 3})
    )
    v2_fields = [{"key": "score", "label": "Score", "type": "number", "required": True}]
    v2 = service.update_form(
        t, hr, UUID(v1.form_id), NewAppraisalForm(name="Annual v2", cycle="2025", fields=v2_fields)
    )
    assert (v2.form_id, v2.version) == (v1.form_id, 2)
    assert service.get_form(t, UUID(v1.form_id), None).version == 2
    assert service.get_form(t, UUID(v1.form_id), 1).name == "Annual 2025"
    assert [f.version for f in service.list_forms(t, None).items] == [2]
    # The old appraisal is still checked against version 1 and can be submitted.
    assert service.submit_appraisal(t, hr, "all", UUID(old.appraisal_id)).status == "submitted"
    new = service.create_appraisal(
        t, hr, "all", NewAppraisal(form_id=v1.form_id, employee_id=emp, responses={"score": 1})
    )
    assert new.form_version == 2
    with pytest.raises(NotFound):
        service.get_form(t, UUID(v1.form_id), 3)


def test_draft_submitted_reviewed_and_required_answers_on_submit(tenant):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    _, emp = employee_user(t, "employee")
    form = _form(t, hr)
    draft = service.create_appraisal(
        t, hr, "all", NewAppraisal(form_id=form.form_id, employee_id=emp, responses={"goals": 4})
    )
    with pytest.raises(Invalid) as caught:
        service.submit_appraisal(t, hr, "all", UUID(draft.appraisal_id))
    assert _errors(caught) == {"responses.summary": "missing", "responses.overall": "missing"}

    complete = service.create_appraisal(
        t, hr, "all", NewAppraisal(form_id=form.form_id, employee_id=emp, responses={"summary": "s", "overall": 4})
    )
    submitted = service.submit_appraisal(t, hr, "all", UUID(complete.appraisal_id))
    assert submitted.status == "submitted" and submitted.submitted_at is not None
    reviewed = service.submit_appraisal(t, hr, "all", UUID(complete.appraisal_id))
    assert reviewed.status == "reviewed" and reviewed.reviewed_at is not None
    with pytest.raises(Conflict):
        service.submit_appraisal(t, hr, "all", UUID(complete.appraisal_id))


def test_managers_reach_their_team_and_employees_only_themselves(tenant):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    boss, boss_emp = employee_user(t, "manager")
    report, report_emp = employee_user(t, "employee", manager_id=boss_emp)
    _, stranger_emp = employee_user(t, "employee")
    form = _form(t, hr)
    answers = {"summary": "s", "overall": 4}
    mine = service.create_appraisal(
        t, boss, "team", NewAppraisal(form_id=form.form_id, employee_id=report_emp, responses=answers)
    )
    other = service.create_appraisal(
        t, hr, "all", NewAppraisal(form_id=form.form_id, employee_id=stranger_emp, responses=answers)
    )
    with pytest.raises(NotFound):  # outside the scope: not found, as for a read
        service.create_appraisal(t, boss, "team", NewAppraisal(form_id=form.form_id, employee_id=stranger_emp))

    def ids(who, scope):
        page = service.list_appraisals(t, who, scope, employee_id=None, status=None, limit=50, cursor=None)
        return {a.appraisal_id for a in page.items}

    assert ids(boss, "team") == {mine.appraisal_id}
    assert ids(report, "self") == {mine.appraisal_id}
    assert ids(hr, "all") == {mine.appraisal_id, other.appraisal_id}
    with pytest.raises(NotFound):
        service.get_appraisal(t, boss, "team", UUID(other.appraisal_id))
    with pytest.raises(NotFound):
        service.submit_appraisal(t, boss, "team", UUID(other.appraisal_id))


def test_appraisals_page_newest_first(tenant):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    _, emp = employee_user(t, "employee")
    form = _form(t, hr)
    made = [
        service.create_appraisal(t, hr, "all", NewAppraisal(form_id=form.form_id, employee_id=emp)).appraisal_id
        for _ in range(5)
    ]
    first = service.list_appraisals(t, hr, "all", employee_id=emp, status=None, limit=3, cursor=None)
    rest = service.list_appraisals(t, hr, "all", employee_id=emp, status=None, limit=3, cursor=first.next_cursor)
    assert [a.appraisal_id for a in first.items + rest.items] == made[::-1]
    assert rest.next_cursor is None


def test_another_tenants_forms_and_appraisals_are_not_found(tenant, platform_actor):
    from hrms.tenants import service as tenants
    from hrms.tenants.models import NewTenant

    other = as_tenant(
        tenants.create_tenant(NewTenant(name="O", slug=f"a-{time.time_ns()}", admin_email="a@o.io"), platform_actor)
    )
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    _, emp = employee_user(t, "employee")
    form = _form(t, hr)
    appraisal = service.create_appraisal(t, hr, "all", NewAppraisal(form_id=form.form_id, employee_id=emp))
    with pytest.raises(NotFound):
        service.get_form(other, UUID(form.form_id), None)
    with pytest.raises(NotFound):
        service.get_appraisal(other, actor(other), "all", UUID(appraisal.appraisal_id))
    with pytest.raises(NotFound):
        service.update_form(
            other, actor(other), UUID(form.form_id), NewAppraisalForm(name="x", cycle="c", fields=FIELDS)
        )
    assert service.list_forms(other, None).items == []
    assert (
        service.list_appraisals(other, actor(other), "all", employee_id=None, status=None, limit=50, cursor=None).items
        == []
    )
    with pytest.raises(NotFound):  # B's employee is not in A's schema
        service.create_appraisal(other, actor(other), "all", NewAppraisal(form_id=uuid4(), employee_id=emp))
