"""Security rules through the local gateway: segregation of duties, the role ceiling and the last admin,
revocation on the very next request, password strength and lockout, secrets kept out of idempotency
replays, account entries of the audit log and error bodies that never name a database constraint.

Revocation checks never clear the gateway's authorizer cache between the change and the check: the
cache is warmed with the old token first, so the next request is admitted by the cached policy and
only the handler's own check can refuse it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from psycopg import sql

from hrms.auth import credentials, tokens
from hrms.auth.passwords import hash_password
from hrms.auth.users import find_user_by_email
from hrms.db.postgres import transaction
from tests.conftest import bearer
from tests.e2e.http_world import STRUCTURE, Org

PROBLEM = "application/problem+json"
PASSWORD = "violet-harbour-lantern-97"
NEW_PASSWORD = "quiet orchard meteor 53 drifts"
FIELDS = [{"key": "summary", "label": "Summary", "type": "text", "required": True}]


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Member:
    """A user of the org's tenant with a known password and a token issued for their current epoch."""

    user_id: str
    email: str
    token: str


def member(
    org: Org, role: str, employee_id: str | None = None, *, password: str = PASSWORD, must_change: bool = False
) -> Member:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    row = org.sql(
        "INSERT INTO {} (email, password_hash, role, employee_id, must_change_password)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        "users",
        (email, hash_password(password), role, employee_id, must_change),
    )
    user_id = str(row[0]["id"])
    return Member(user_id, email, tokens.issue(user_id, role, tid=str(org.tenant.tenant_id)))


def login(org: Org, email: str, password: str) -> httpx.Response:
    body = {"tenantSlug": org.tenant.slug, "email": email, "password": password}
    return org.client.post("/auth/login", json=body)


def signed_in(org: Org, who: Member, password: str = PASSWORD) -> str:
    """A token from a real login; asserts the answer is never cached."""
    response = login(org, who.email, password)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["accessToken"])


def change_password(org: Org, token: str, current: str, new: str) -> httpx.Response:
    return org.call("POST", "/auth/password", token, json={"currentPassword": current, "newPassword": new})


def problem(response: httpx.Response, status: int, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM, response.headers
    body: dict[str, Any] = response.json()
    if rule is not None:
        assert body.get("rule") == rule, body
    return body


def admin_id(org: Org) -> str:
    return str(find_user_by_email(org.tenant.slug, org.tenant.admin_email).user_id)  # type: ignore[union-attr]


def permissions_of(org: Org, role: str) -> list[str]:
    roles = org.call("GET", "/roles").json()
    return list(next(r["permissions"] for r in roles if r["role"] == role))


def grant(org: Org, role: str, *extra: str) -> None:
    """As the admin, add `extra` to the role's permission set."""
    response = org.call("PUT", f"/roles/{role}", json={"permissions": [*permissions_of(org, role), *extra]})
    assert response.status_code == 200, response.text


def structure(org: Org) -> str:
    response = org.call("POST", "/salary-structures", json=STRUCTURE)
    assert response.status_code == 201, response.text
    return str(response.json()["salaryStructureId"])


def assign(
    org: Org, employee: str, structure_id: str, *, ctc: str = "600000.00", since: str = "2024-01-01", token: str = ""
) -> httpx.Response:
    body = {"salaryStructureId": structure_id, "annualCtc": ctc, "effectiveFrom": since}
    return org.call("POST", f"/employees/{employee}/salaries", token or None, json=body)


def paid(org: Org, *employees: str) -> str:
    """A salary structure and a salary from 2024-01-01 for each employee; returns the structure id."""
    structure_id = structure(org)
    for employee in employees:
        response = assign(org, employee, structure_id)
        assert response.status_code == 201, response.text
    return structure_id


def new_run(org: Org, month: str, token: str | None = None) -> dict[str, Any]:
    response = org.call("POST", "/payroll/runs", token, json={"month": month})
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    assert run["status"] == "draft" and run["approvalId"]
    return run


def run_status(org: Org, run: dict[str, Any]) -> str:
    return str(org.call("GET", f"/payroll/runs/{run['payrollRunId']}").json()["status"])


def approve_run(org: Org, run: dict[str, Any], token: str) -> httpx.Response:
    return org.call("POST", f"/payroll/runs/{run['payrollRunId']}/approve", token, json={})


def decide(org: Org, approval_id: str, token: str) -> httpx.Response:
    return org.call("POST", f"/approvals/{approval_id}/decision", token, json={"decision": "approve"})


def idempotency_rows(schema: str, key_suffix: str) -> list[str]:
    with transaction() as conn:
        rows = conn.execute(
            sql.SQL("SELECT response::text AS response FROM {} WHERE key LIKE %s").format(
                sql.Identifier(schema, "idempotency_keys")
            ),
            (f"%:{key_suffix}",),
        ).fetchall()
    return [str(r["response"]) for r in rows]


def tenant_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()  # the tenant fixture's default timezone


# ---------------------------------------------------------------- 1. segregation of duties


def test_nobody_sets_their_own_salary(org: Org) -> None:
    own = org.hire()
    hr = org.token(own, "hr_manager")
    structure_id = structure(org)

    problem(assign(org, own, structure_id, token=hr), 403, "own-salary")
    assert org.call("GET", f"/employees/{own}/salaries").json()["items"] == []
    assert assign(org, org.employee, structure_id, token=hr).status_code == 201


def test_the_creator_of_a_payroll_run_does_not_approve_it(org: Org) -> None:
    paid(org, org.manager, org.employee)
    run = new_run(org, "2025-03", org.hr_token)

    problem(approve_run(org, run, org.hr_token), 403, "run-creator")
    problem(decide(org, run["approvalId"], org.hr_token), 403, "run-creator")
    assert run_status(org, run) == "draft"

    other_hr = org.token(None, "hr_manager")
    approved = approve_run(org, run, other_hr)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert run_status(org, run) == "approved"
    processed = org.call("POST", f"/payroll/runs/{run['payrollRunId']}/process", org.hr_token)
    assert processed.status_code == 200, processed.text  # maker-checker concerns the approval only
    assert processed.json()["status"] == "processed"


def test_a_single_admin_tenant_run_waits_instead_of_self_approval(org: Org) -> None:
    org.sql("DELETE FROM {} WHERE role = 'hr_manager'", "users")  # the admin is the only possible approver
    paid(org, org.employee)
    run = new_run(org, "2025-04")

    problem(approve_run(org, run, org.admin), 409, "no-other-approver")
    problem(decide(org, run["approvalId"], org.admin), 409, "no-other-approver")
    assert run_status(org, run) == "draft"


def test_nobody_approves_a_run_in_which_their_own_pay_changed(org: Org) -> None:
    mine, theirs = org.hire(), org.hire()
    changed_approver = org.token(mine, "hr_manager")
    steady_approver = org.token(theirs, "hr_manager")
    structure_id = paid(org, mine, theirs, org.employee)

    january = new_run(org, "2025-01", org.hr_token)
    assert approve_run(org, january, steady_approver).status_code == 200
    path = f"/payroll/runs/{january['payrollRunId']}/process"
    assert org.call("POST", path, org.hr_token).status_code == 200
    raise_ = assign(org, mine, structure_id, ctc="720000.00", since="2025-02-01", token=org.hr_token)
    assert raise_.status_code == 201, raise_.text

    february = new_run(org, "2025-02", org.hr_token)
    problem(approve_run(org, february, changed_approver), 403, "own-pay-changed")
    problem(decide(org, february["approvalId"], changed_approver), 403, "own-pay-changed")
    assert run_status(org, february) == "draft"
    approved = approve_run(org, february, steady_approver)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"


def test_nobody_decides_their_own_leave(org: Org) -> None:
    own = org.hire()  # no manager: the leave falls back to the hr_manager role, i.e. to them
    hr = org.token(own, "hr_manager")
    leave = org.request(hr)
    assert leave.status_code == 201, leave.text
    leave_id, approval_id = leave.json()["leaveId"], leave.json()["approvalId"]

    decision = {"decision": "approve"}
    problem(org.call("POST", f"/leaves/{leave_id}/decision", hr, json=decision), 403, "self-decision")
    problem(decide(org, approval_id, hr), 403, "self-decision")
    assert org.call("GET", f"/leaves/{leave_id}").json()["status"] == "pending"

    # The org's manager has no manager either: their own request is not theirs to decide.
    own_leave = org.request(org.manager_token)
    assert own_leave.status_code == 201, own_leave.text
    path = f"/leaves/{own_leave.json()['leaveId']}/decision"
    problem(org.call("POST", path, org.manager_token, json=decision), 403, "self-decision")

    decided = org.call("POST", f"/leaves/{leave_id}/decision", org.hr_token, json=decision)
    assert decided.status_code == 200, decided.text


def _form(org: Org, *, self_assessment: bool) -> str:
    body = {"name": "Annual", "cycle": "2025", "fields": FIELDS, "allowSelfAssessment": self_assessment}
    response = org.call("POST", "/appraisal-forms", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["formId"])


def test_a_manager_does_not_appraise_themself_on_a_form_without_self_assessment(org: Org) -> None:
    form = _form(org, self_assessment=False)
    body = {"formId": form, "employeeId": org.manager, "responses": {"summary": "A great year"}}
    problem(org.call("POST", "/appraisals", org.manager_token, json=body), 403, "self-decision")
    assert org.call("GET", "/appraisals", params={"employeeId": org.manager}).json()["items"] == []
    of_report = {**body, "employeeId": org.employee}
    assert org.call("POST", "/appraisals", org.manager_token, json=of_report).status_code == 201


def test_a_self_assessment_is_reviewed_by_the_manager_or_hr_never_by_the_employee(org: Org) -> None:
    grant(org, "employee", "appraisals:write:self")
    form = _form(org, self_assessment=True)
    body = {"formId": form, "employeeId": org.employee, "responses": {"summary": "I shipped things"}}

    def submitted() -> str:
        created = org.call("POST", "/appraisals", org.employee_token, json=body)
        assert created.status_code == 201, created.text
        assert created.json()["reviewerId"] == org.manager  # the default reviewer: the reporting manager
        appraisal_id = str(created.json()["appraisalId"])
        sent = org.call("POST", f"/appraisals/{appraisal_id}/submit", org.employee_token)
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "submitted"
        return appraisal_id

    first = submitted()
    problem(org.call("POST", f"/appraisals/{first}/submit", org.employee_token), 403, "self-decision")
    assert org.call("GET", f"/appraisals/{first}").json()["status"] == "submitted"
    reviewed = org.call("POST", f"/appraisals/{first}/submit", org.manager_token)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "reviewed"

    second = submitted()
    director = org.hire()  # the manager's manager: the report is in their team, but not their review
    moved = org.call("PATCH", f"/employees/{org.manager}", json={"managerId": director})
    assert moved.status_code == 200, moved.text
    director_token = org.token(director, "manager")
    problem(org.call("POST", f"/appraisals/{second}/submit", director_token), 403, "review-by-reviewer")
    by_hr = org.call("POST", f"/appraisals/{second}/submit", org.hr_token)
    assert by_hr.status_code == 200, by_hr.text
    assert by_hr.json()["status"] == "reviewed"


def test_an_employee_deletes_only_documents_they_uploaded(org: Org) -> None:
    body = {"category": "warning_letter", "fileName": "warning.pdf", "contentType": "application/pdf", "sizeBytes": 10}
    filed = org.call("POST", "/documents", org.hr_token, json={**body, "employeeId": org.employee})
    assert filed.status_code == 201, filed.text
    filed_id = filed.json()["documentId"]

    problem(org.call("DELETE", f"/documents/{filed_id}", org.employee_token), 403, "filed-by-others")
    assert org.call("GET", f"/documents/{filed_id}", org.employee_token).status_code == 200

    mine = org.call("POST", "/documents", org.employee_token, json={**body, "category": "id_proof"})
    assert mine.status_code == 201, mine.text
    mine_id = mine.json()["documentId"]
    assert org.call("DELETE", f"/documents/{mine_id}", org.employee_token).status_code == 204
    assert org.call("GET", f"/documents/{mine_id}", org.employee_token).status_code == 404


# ---------------------------------------------------------------- 2. role ceiling and admins


@pytest.fixture
def hr_admin(org: Org) -> Member:
    """An hr_manager whose role was given users:write and roles:write by the admin."""
    grant(org, "hr_manager", "users:write", "roles:write")
    return member(org, "hr_manager")


def test_only_admins_make_admins(org: Org, hr_admin: Member) -> None:
    new_admin = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "role": "admin"}
    problem(org.call("POST", "/users", hr_admin.token, json=new_admin), 403, "admins-only")
    assert org.call("GET", "/users", params={"role": "admin"}).json()["items"][0]["email"] == org.tenant.admin_email
    assert len(org.call("GET", "/users", params={"role": "admin"}).json()["items"]) == 1

    path = f"/users/{hr_admin.user_id}"
    problem(org.call("PATCH", path, hr_admin.token, json={"role": "admin"}), 403, "admins-only")
    assert org.call("GET", path).json()["role"] == "hr_manager"

    newcomer = org.hire()  # a non-admin creates an account for its owner only (test_review_authz_accounts)
    email = org.call("GET", f"/employees/{newcomer}").json()["email"]
    employee = {"email": email, "role": "employee", "employeeId": newcomer}
    assert org.call("POST", "/users", hr_admin.token, json=employee).status_code == 201


def test_nobody_grants_what_they_do_not_hold(org: Org, hr_admin: Member) -> None:
    held = permissions_of(org, "hr_manager")
    for extra in ("*", "users:read"):
        body = problem(
            org.call("PUT", "/roles/hr_manager", hr_admin.token, json={"permissions": [*held, extra]}),
            403,
            "grant-ceiling",
        )
        assert body["missing"] == [extra]
    assert sorted(permissions_of(org, "hr_manager")) == sorted(held)

    employee = permissions_of(org, "employee")
    beyond = {"permissions": [*employee, "settings:write"]}
    problem(org.call("PUT", "/roles/employee", hr_admin.token, json=beyond), 403, "grant-ceiling")
    within = {"permissions": [*employee, "appraisals:write:self", "leave:read:team"]}
    updated = org.call("PUT", "/roles/employee", hr_admin.token, json=within)
    assert updated.status_code == 200, updated.text
    assert sorted(permissions_of(org, "employee")) == sorted(within["permissions"])


def test_only_admins_change_or_reset_an_admins_account(org: Org, hr_admin: Member) -> None:
    path = f"/users/{admin_id(org)}"
    problem(org.call("PATCH", path, hr_admin.token, json={"status": "disabled"}), 403, "admins-only")
    problem(org.call("POST", f"{path}/password-reset", hr_admin.token), 403, "admins-only")
    assert org.call("GET", path).json()["status"] == "active"
    assert org.call("GET", "/me").status_code == 200  # the admin's token still works


def test_the_only_admin_cannot_disable_or_demote_themself(org: Org) -> None:
    path = f"/users/{admin_id(org)}"
    problem(org.call("PATCH", path, json={"status": "disabled"}), 409, "last-admin")
    problem(org.call("PATCH", path, json={"role": "hr_manager"}), 409, "last-admin")
    after = org.call("GET", path)
    assert after.status_code == 200, after.text
    assert (after.json()["role"], after.json()["status"]) == ("admin", "active")


def test_the_only_admins_employment_is_not_ended(org: Org) -> None:
    own = org.hire()
    org.sql("UPDATE {} SET employee_id = %s WHERE role = 'admin'", "users", (own,))
    hr = org.token(None, "hr_manager")

    problem(org.call("DELETE", f"/employees/{own}"), 409, "last-admin")
    later = {"dateOfLeaving": (tenant_today() + dt.timedelta(days=30)).isoformat()}
    problem(org.call("DELETE", f"/employees/{own}", json=later), 409, "last-admin")
    problem(org.call("DELETE", f"/employees/{own}", hr), 403, "admins-only")
    problem(org.call("PATCH", f"/employees/{own}", json=later), 409, "last-admin")
    problem(org.call("PATCH", f"/employees/{own}", json={"status": "terminated"}), 409, "last-admin")
    record = org.call("GET", f"/employees/{own}").json()
    assert (record["status"], record["dateOfLeaving"]) == ("active", None)
    assert org.call("GET", "/me").status_code == 200


def test_the_only_admin_is_not_linked_to_someone_who_has_left(org: Org) -> None:
    gone = org.hire()
    left = org.call("DELETE", f"/employees/{gone}", json={"dateOfLeaving": "2025-06-30"})
    assert left.status_code == 200, left.text
    path = f"/users/{admin_id(org)}"
    problem(org.call("PATCH", path, json={"employeeId": gone}), 409, "last-admin")
    assert org.call("GET", path).json()["employeeId"] is None


def test_with_a_second_active_admin_the_first_may_be_disabled(org: Org) -> None:
    second = org.call("POST", "/users", json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "role": "admin"})
    assert second.status_code == 201, second.text
    second_path = f"/users/{second.json()['userId']}"
    assert org.call("PATCH", second_path, json={"status": "disabled"}).status_code == 200
    problem(org.call("PATCH", f"/users/{admin_id(org)}", json={"status": "disabled"}), 409, "last-admin")
    assert org.call("PATCH", second_path, json={"status": "active"}).status_code == 200

    disabled = org.call("PATCH", f"/users/{admin_id(org)}", json={"status": "disabled"})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    problem(org.call("GET", "/me"), 401)


# ---------------------------------------------------------------- 3. revocation on the very next request


@pytest.fixture
def cache(gateway: Any) -> Any:
    """The gateway's authorizer cache: only looked at, never cleared, by the revocation tests."""
    return gateway.auth_cache


def cached(cache: Any, token: str) -> bool:
    """Whether the gateway holds an Allow for the token (keyed, as API Gateway does, on the header value)."""
    hit, policy = cache.get(bearer(token)["Authorization"])
    return bool(hit and policy is not None)


def warm(org: Org, cache: Any, *tokens_: str) -> None:
    """A request with each token, after which the gateway holds its authorizer answer (an Allow)."""
    for token in tokens_:
        assert org.call("GET", "/me", token).status_code == 200
        assert cached(cache, token), "the authorizer answer should now be cached"


def test_a_password_change_revokes_earlier_tokens_at_once(org: Org, cache: Any) -> None:
    who = member(org, "employee", org.employee)
    old = signed_in(org, who)
    warm(org, cache, old)

    changed = change_password(org, old, PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "no-store"
    assert {"accessToken", "expiresIn"} <= set(changed.json())

    problem(org.call("GET", "/me", old), 401)
    problem(org.request(old), 401)
    assert org.call("GET", "/me", changed.json()["accessToken"]).status_code == 200
    problem(login(org, who.email, PASSWORD), 401)
    assert signed_in(org, who, NEW_PASSWORD)


def test_a_temporary_password_allows_only_me_and_the_change_then_dies(org: Org, cache: Any) -> None:
    who = member(org, "employee", org.employee, must_change=True)
    first = login(org, who.email, PASSWORD)
    assert first.status_code == 200, first.text
    assert first.json()["mustChangePassword"] is True
    temporary = first.json()["accessToken"]
    warm(org, cache, temporary)

    assert org.call("GET", "/me", temporary).json()["mustChangePassword"] is True
    problem(org.call("GET", f"/employees/{org.employee}", temporary), 403)
    problem(org.request(temporary), 403)

    changed = change_password(org, temporary, PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 200, changed.text
    problem(org.call("GET", "/me", temporary), 401)
    problem(change_password(org, temporary, NEW_PASSWORD, "another quiet orchard 77"), 401)
    fresh = changed.json()["accessToken"]
    assert org.call("GET", "/me", fresh).json()["mustChangePassword"] is False
    assert org.call("GET", f"/employees/{org.employee}", fresh).status_code == 200


def test_an_admin_password_reset_revokes_the_users_tokens_at_once(org: Org, cache: Any) -> None:
    who = member(org, "employee", org.employee)
    old = signed_in(org, who)
    warm(org, cache, old)
    assert org.request(old).status_code == 201

    reset = org.call("POST", f"/users/{who.user_id}/password-reset")
    assert reset.status_code == 200, reset.text
    assert reset.headers["cache-control"] == "no-store"
    temporary_password = reset.json()["temporaryPassword"]
    assert isinstance(temporary_password, str) and temporary_password

    problem(org.call("GET", "/me", old), 401)
    problem(org.request(old, startDate="2024-03-04", endDate="2024-03-05"), 401)
    problem(login(org, who.email, PASSWORD), 401)

    again = login(org, who.email, temporary_password)
    assert again.status_code == 200, again.text
    assert again.json()["mustChangePassword"] is True
    temporary = again.json()["accessToken"]
    problem(org.call("GET", "/leaves", temporary), 403)
    assert change_password(org, temporary, temporary_password, NEW_PASSWORD).status_code == 200


def test_a_role_change_or_disabling_revokes_the_users_tokens_at_once(org: Org, cache: Any) -> None:
    who = member(org, "employee", org.employee)
    old = signed_in(org, who)
    warm(org, cache, old)
    promoted = org.call("PATCH", f"/users/{who.user_id}", json={"role": "manager"})
    assert promoted.status_code == 200, promoted.text
    problem(org.call("GET", "/me", old), 401)

    current = signed_in(org, who)
    assert org.call("GET", "/me", current).json()["role"] == "manager"
    warm(org, cache, current)
    disabled = org.call("PATCH", f"/users/{who.user_id}", json={"status": "disabled"})
    assert disabled.status_code == 200, disabled.text
    problem(org.call("GET", "/me", current), 401)
    problem(org.request(current), 401)
    problem(login(org, who.email, PASSWORD), 401)


def test_termination_revokes_from_the_leaving_date_on(org: Org, cache: Any) -> None:
    leaving_today = member(org, "employee", org.employee)
    leaving_later = member(org, "manager", org.manager)
    today_token, later_token = signed_in(org, leaving_today), signed_in(org, leaving_later)
    warm(org, cache, today_token, later_token)

    today = tenant_today()
    ended = org.call("DELETE", f"/employees/{org.employee}", json={"dateOfLeaving": today.isoformat()})
    assert ended.status_code == 200, ended.text
    problem(org.call("GET", "/me", today_token), 401)
    problem(org.request(today_token), 401)

    later = (today + dt.timedelta(days=30)).isoformat()
    ending = org.call("DELETE", f"/employees/{org.manager}", json={"dateOfLeaving": later})
    assert ending.status_code == 200, ending.text
    assert org.call("GET", "/me", later_token).status_code == 200
    assert signed_in(org, leaving_later)


def test_a_suspended_tenant_is_refused_on_the_next_request(org: Org, cache: Any, platform_token: str) -> None:
    who = member(org, "employee", org.employee)
    token = signed_in(org, who)
    warm(org, cache, token)
    suspended = org.call("PATCH", f"/tenants/{org.tenant.tenant_id}", platform_token, json={"status": "suspended"})
    assert suspended.status_code == 200, suspended.text

    problem(org.call("GET", "/me", token), 403)
    problem(org.request(token), 403)
    problem(login(org, who.email, PASSWORD), 401)


def test_rotating_the_platform_epoch_revokes_platform_tokens(
    client: httpx.Client, platform_token: str, cache: Any
) -> None:
    assert client.get("/tenants", headers=bearer(platform_token)).status_code == 200
    assert cached(cache, platform_token)
    try:
        epoch = credentials.rotate_platform_epoch()
        refused = client.get("/tenants", headers=bearer(platform_token))
        assert refused.status_code == 401, refused.text
        fresh = tokens.issue("platform-admin", "platform_admin", epoch=epoch)
        assert client.get("/tenants", headers=bearer(fresh)).status_code == 200
    finally:
        with transaction() as conn:
            conn.execute("UPDATE public.platform_credentials SET epoch = 0")
        cache.clear()  # after the checks: no refusal of the session's token stays cached
    assert client.get("/tenants", headers=bearer(platform_token)).status_code == 200


# ---------------------------------------------------------------- 4. passwords


@pytest.mark.parametrize("weak", [" " * 12, "aaaaaaaaaaaa", "abcdefghijkl", "123456789012", "password1234"])
def test_a_weak_new_password_is_refused_with_a_reason(org: Org, weak: str) -> None:
    who = member(org, "employee", org.employee)
    token = signed_in(org, who)
    body = problem(change_password(org, token, PASSWORD, weak), 422)
    reasons = [e for e in body["errors"] if e["field"] == "body.newPassword"]
    assert reasons and all(e["message"] for e in reasons), body
    assert org.call("GET", "/me", token).status_code == 200  # nothing changed: the token lives
    assert change_password(org, token, PASSWORD, NEW_PASSWORD).status_code == 200


def test_a_long_passphrase_is_a_strong_password(org: Org) -> None:
    who = member(org, "employee", org.employee)
    passphrase = (
        "violet harbour lantern drifts north over the quiet orchard where meteors fall at dusk"  # 85 characters
    )
    changed = change_password(org, signed_in(org, who), PASSWORD, passphrase)
    assert changed.status_code == 200, changed.text
    assert signed_in(org, who, passphrase)


def test_wrong_current_passwords_lock_password_change_and_login(org: Org) -> None:
    who = member(org, "employee", org.employee)
    token = signed_in(org, who)
    for _ in range(5):
        wrong = problem(change_password(org, token, "not-my-password-at-all", NEW_PASSWORD), 422)
        assert any(e["field"] == "body.currentPassword" for e in wrong["errors"]), wrong

    locked = change_password(org, token, PASSWORD, NEW_PASSWORD)  # even the right one
    problem(locked, 429)
    assert int(locked.headers["retry-after"]) > 0
    problem(login(org, who.email, PASSWORD), 401)  # one lock for login and password change
    assert org.call("GET", "/me", token).status_code == 200  # the password did not change


def test_failed_logins_lock_the_password_change_too(org: Org) -> None:
    who = member(org, "employee", org.employee)
    token = signed_in(org, who)
    for _ in range(5):
        problem(login(org, who.email, "not-my-password-at-all"), 401)
    problem(login(org, who.email, PASSWORD), 401)
    locked = change_password(org, token, PASSWORD, NEW_PASSWORD)
    problem(locked, 429)
    assert int(locked.headers["retry-after"]) > 0


# ---------------------------------------------------------------- 5. idempotency never stores secrets


def test_a_replayed_user_creation_does_not_repeat_the_temporary_password(org: Org) -> None:
    key = f"user-{uuid.uuid4().hex}"
    headers = {**bearer(org.admin), "Idempotency-Key": key}
    body = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "role": "employee"}

    first = org.client.post("/users", json=body, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["temporaryPassword"]
    assert isinstance(secret, str) and secret

    replay = org.client.post("/users", json=body, headers=headers)
    assert replay.status_code == 201, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["userId"] == first.json()["userId"]
    assert replay.json()["temporaryPassword"] is None
    assert replay.json()["temporaryPasswordReplayed"] is True

    stored = idempotency_rows(org.tenant.schema_name, key)
    assert len(stored) == 1 and secret not in stored[0]


def test_a_replayed_tenant_creation_does_not_repeat_the_admin_password(
    client: httpx.Client, platform_token: str
) -> None:
    key = f"tenant-{uuid.uuid4().hex}"
    slug = f"sec-{uuid.uuid4().hex[:8]}"
    headers = {**bearer(platform_token), "Idempotency-Key": key}
    body = {"name": "Secrets", "slug": slug, "adminEmail": f"admin@{slug}.example.com"}

    first = client.post("/tenants", json=body, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["adminTemporaryPassword"]
    assert isinstance(secret, str) and secret

    replay = client.post("/tenants", json=body, headers=headers)
    assert replay.status_code == 201, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["tenantId"] == first.json()["tenantId"]
    assert replay.json()["adminTemporaryPassword"] is None
    assert replay.json()["temporaryPasswordReplayed"] is True

    stored = idempotency_rows("public", key)
    assert len(stored) == 1 and secret not in stored[0]


def test_a_replayed_password_reset_does_not_repeat_the_temporary_password(org: Org) -> None:
    who = member(org, "employee", org.employee)
    key = f"reset-{uuid.uuid4().hex}"
    headers = {**bearer(org.admin), "Idempotency-Key": key}
    first = org.client.post(f"/users/{who.user_id}/password-reset", headers=headers)
    assert first.status_code == 200, first.text
    secret = first.json()["temporaryPassword"]

    replay = org.client.post(f"/users/{who.user_id}/password-reset", headers=headers)
    assert replay.status_code == 200, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert (replay.json()["temporaryPassword"], replay.json()["temporaryPasswordReplayed"]) == (None, True)
    assert signed_in(org, who, secret)  # the replay did not reset the password again

    stored = idempotency_rows(org.tenant.schema_name, key)
    assert len(stored) == 1 and secret not in stored[0]


def test_a_replayed_password_change_does_not_repeat_the_access_token(org: Org) -> None:
    who = member(org, "employee", org.employee)
    key = f"change-{uuid.uuid4().hex}"
    body = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    first = org.client.post(
        "/auth/password", json=body, headers={**bearer(signed_in(org, who)), "Idempotency-Key": key}
    )
    assert first.status_code == 200, first.text
    fresh = first.json()["accessToken"]

    replay = org.client.post("/auth/password", json=body, headers={**bearer(fresh), "Idempotency-Key": key})
    assert replay.status_code == 200, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert (replay.json()["accessToken"], replay.json()["accessTokenReplayed"]) == (None, True)
    assert org.call("GET", "/me", fresh).status_code == 200  # the replay changed nothing

    stored = idempotency_rows(org.tenant.schema_name, key)
    assert len(stored) == 1 and fresh not in stored[0]


# ---------------------------------------------------------------- 6. what reads and errors reveal


def test_account_entries_of_the_audit_log_need_users_read(org: Org) -> None:
    made = org.call("POST", "/users", json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "role": "employee"})
    assert made.status_code == 201, made.text
    grant(org, "manager", "org:read")  # a role entry (the set is unchanged, the write is audited)
    hr = org.hr_token

    def entity_types() -> set[str]:
        response = org.call("GET", "/audit-logs", hr, params={"limit": 200})
        assert response.status_code == 200, response.text
        return {e["entityType"] for e in response.json()["items"]}

    assert not entity_types() & {"user", "role"}
    assert org.call("GET", "/audit-logs", hr, params={"entityType": "user"}).json()["items"] == []
    assert "employee" in entity_types()  # audit:read alone still sees everything else

    grant(org, "hr_manager", "users:read")
    assert {"user", "role"} <= entity_types()
    users = org.call("GET", "/audit-logs", hr, params={"entityType": "user"}).json()["items"]
    assert made.json()["userId"] in {e["entityId"] for e in users}


DUPLICATES = [
    ("/departments", {"name": "Finance", "code": "FIN"}, {"name": "Finance 2", "code": "fin"}, "code", "departments"),
    ("/designations", {"title": "Analyst"}, {"title": "ANALYST"}, "title", "designations"),
    (
        "/holidays",
        {"date": "2025-12-25", "name": "Christmas"},
        {"date": "2025-12-25", "name": "Xmas"},
        "date",
        "holidays",
    ),
    (
        "/leave-types",
        {"code": "study", "name": "Study", "annualQuota": 5},
        {"code": "STUDY", "name": "Study again", "annualQuota": 3},
        "code",
        "leave_types",
    ),
    ("/salary-structures", STRUCTURE, {**STRUCTURE, "name": "standard"}, "name", "salary_structures"),
    (
        "/users",
        {"email": "dup@example.com", "role": "employee"},
        {"email": "DUP@example.com", "role": "manager"},
        "email",
        "users",
    ),
]


@pytest.mark.parametrize(("path", "first", "second", "field", "table"), DUPLICATES, ids=[d[0] for d in DUPLICATES])
def test_a_duplicate_names_the_field_not_the_constraint(
    org: Org, path: str, first: dict[str, Any], second: dict[str, Any], field: str, table: str
) -> None:
    created = org.call("POST", path, json=first)
    assert created.status_code == 201, created.text
    again = org.call("POST", path, json=second)
    body = problem(again, 409)
    assert "_key" not in again.text and f"{table}_" not in again.text, again.text
    assert [e["field"].removeprefix("body.") for e in body["errors"]] == [field], body


def test_a_duplicate_employee_email_names_the_field_not_the_constraint(org: Org) -> None:
    body = {"email": "twin@example.com", "firstName": "Asha", "lastName": "Rao", "dateOfJoining": "2024-01-01"}
    assert org.call("POST", "/employees", json={**body, **org.refs}).status_code == 201
    again = org.call("POST", "/employees", json={**body, **org.refs, "email": "TWIN@example.com"})
    payload = problem(again, 409)
    assert "_key" not in again.text and "employees_" not in again.text, again.text
    assert [e["field"].removeprefix("body.") for e in payload["errors"]] == ["email"], payload


def test_a_duplicate_salary_revision_names_the_field_not_the_constraint(org: Org) -> None:
    structure_id = paid(org, org.employee)
    again = assign(org, org.employee, structure_id, ctc="650000.00")  # the same effective date
    payload = problem(again, 409)
    assert "_key" not in again.text and "employee_salaries_" not in again.text, again.text
    assert [e["field"].removeprefix("body.") for e in payload["errors"]] == ["effectiveFrom"], payload
