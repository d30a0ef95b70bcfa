"""Review of the duties an insider could step around, through the local gateway.

Each table below is written by hand from the policy (DESIGN.md section 4, `hrms.auth.duties`), never
derived from the application's permission tables:

- an HR user does not give themself back leave days they have already taken (cancelling their own
  approved leave after it started is an adjustment of their own balance: 403 `own-balance`);
- nobody changes their own manager (who decides their leave) or their own joining date (which
  prorates their leave and pay) on their employee record (403 `own-record`); others still may;
- an employee record speaks through one active user account: a user administrator cannot quietly
  link a second account to someone who has one (409 `employee-has-user`) and so act as them.

World (the `org` fixture): M (manager) and E (reports to M); H, an HR user's own employee record,
also reports to M; O, an unrelated employee; `hr_self` is an hr_manager user linked to H, `hr` the
fixture's hr_manager user linked to nobody.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.http_world import Org

PROBLEM = "application/problem+json"


@dataclass
class People:
    org: Org
    emp: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture
def people(org: Org) -> People:
    h = org.hire(managerId=org.manager, lastName="PersonH")
    o = org.hire(lastName="PersonO")
    emp = {"M": org.manager, "E": org.employee, "H": h, "O": o}
    tokens = {
        "admin": org.admin,
        "hr": org.hr_token,
        "hr_self": org.token(h, "hr_manager"),
        "manager": org.manager_token,
        "employee": org.employee_token,
    }
    return People(org, emp, tokens)


def expect(response: httpx.Response, status: int, rule: str | None) -> None:
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == PROBLEM, response.headers
        assert response.json().get("rule") == rule, response.text


# ---------------------------------------------------------------- 1. taken leave comes back only through someone else

# (case, whose leave, requested by, approved?, who cancels, expected status, expected rule)
CANCELS: list[tuple[str, str, str, bool, str, int, str | None]] = [
    ("hr cancels their own taken leave", "H", "hr_self", True, "hr_self", 403, "own-balance"),
    ("hr withdraws their own pending leave", "H", "hr_self", False, "hr_self", 200, None),
    ("another hr user cancels hr's taken leave", "H", "hr_self", True, "hr", 200, None),
    ("an employee cancels their own taken leave", "E", "employee", True, "employee", 409, None),
    ("hr cancels an employee's taken leave", "E", "employee", True, "hr_self", 200, None),
    ("the admin cancels an employee's taken leave", "E", "employee", True, "admin", 200, None),
]
# Past weeks of 2024 (every one has started), one per case so that no two requests overlap.
WEEKS = [
    ("2024-03-04", "2024-03-05"),
    ("2024-03-11", "2024-03-12"),
    ("2024-03-18", "2024-03-19"),
    ("2024-04-01", "2024-04-02"),
    ("2024-04-08", "2024-04-09"),
    ("2024-04-15", "2024-04-16"),
]


def used_days(org: Org, employee: str) -> tuple[float, float]:
    response = org.call("GET", f"/employees/{employee}/leave-balances", params={"year": 2024})
    assert response.status_code == 200, response.text
    annual = next(b for b in response.json() if b["code"] == "annual")
    return annual["used"], annual["pending"]


def test_a_taken_leave_comes_back_only_through_someone_else(people: People) -> None:
    org, failures = people.org, []
    for (case, whose, requester, approved, canceller, status, rule), (start, end) in zip(CANCELS, WEEKS, strict=True):
        leave = org.request(people.tokens[requester], startDate=start, endDate=end)
        assert leave.status_code == 201, f"{case}: {leave.text}"
        leave_id = leave.json()["leaveId"]
        if approved:
            decided = org.call(
                "POST", f"/leaves/{leave_id}/decision", people.tokens["manager"], json={"decision": "approve"}
            )
            assert decided.status_code == 200, f"{case}: {decided.text}"
        before = used_days(org, people.emp[whose])
        response = org.call("POST", f"/leaves/{leave_id}/cancel", people.tokens[canceller])
        got_rule = response.json().get("rule") if response.status_code >= 400 else None
        if (response.status_code, got_rule) != (status, rule):
            failures.append(f"{case}: expected {status} {rule}, got {response.status_code}: {response.text[:300]}")
        elif status >= 400:
            assert response.headers["content-type"] == PROBLEM
            assert used_days(org, people.emp[whose]) == before, f"{case}: the balance changed on a refusal"
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- 2. one's own manager and joining date


# (case, caller, subject, body, expected status, expected rule)
OWN_RECORD: list[tuple[str, str, str, dict[str, Any], int, str | None]] = [
    ("hr picks their own manager", "hr_self", "H", {"managerId": "O"}, 403, "own-record"),
    ("hr removes their own manager", "hr_self", "H", {"managerId": None}, 403, "own-record"),
    ("hr moves their own joining date", "hr_self", "H", {"dateOfJoining": "2023-06-01"}, 403, "own-record"),
    ("hr changes their own name", "hr_self", "H", {"lastName": "Renamed"}, 200, None),
    ("hr restates their own manager unchanged", "hr_self", "H", {"managerId": "M", "lastName": "Again"}, 200, None),
    ("hr changes an employee's manager", "hr_self", "E", {"managerId": "O"}, 200, None),
    ("another hr user changes hr's manager", "hr", "H", {"managerId": "O"}, 200, None),
]


def test_nobody_changes_their_own_manager_or_joining_date(people: People) -> None:
    org, failures = people.org, []
    for case, caller, subject, body, status, rule in OWN_RECORD:
        sent = {k: people.emp.get(v, v) if k == "managerId" and v else v for k, v in body.items()}
        before = org.call("GET", f"/employees/{people.emp[subject]}").json()
        response = org.call("PATCH", f"/employees/{people.emp[subject]}", people.tokens[caller], json=sent)
        got_rule = response.json().get("rule") if response.status_code >= 400 else None
        if (response.status_code, got_rule) != (status, rule):
            failures.append(f"{case}: expected {status} {rule}, got {response.status_code}: {response.text[:300]}")
        elif status >= 400:
            assert response.headers["content-type"] == PROBLEM
            after = org.call("GET", f"/employees/{people.emp[subject]}").json()
            assert after == before, f"{case}: the record changed on a refusal"
    assert not failures, "\n".join(failures)


def test_the_admin_does_not_pick_their_own_manager_either(org: Org) -> None:
    own = org.hire(lastName="PersonA")
    org.sql("UPDATE {} SET employee_id = %s WHERE role = 'admin'", "users", (own,))
    expect(org.call("PATCH", f"/employees/{own}", json={"managerId": org.manager}), 403, "own-record")
    assert org.call("GET", f"/employees/{own}").json()["managerId"] is None
    expect(org.call("PATCH", f"/employees/{own}", org.hr_token, json={"managerId": org.manager}), 200, None)


# ---------------------------------------------------------------- 3. one active account per employee record


def _email() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.com"


def test_a_second_account_is_never_linked_to_an_employee_who_has_one(people: People) -> None:
    org = people.org
    held = org.call("GET", "/roles").json()
    hr_permissions = next(r["permissions"] for r in held if r["role"] == "hr_manager")
    granted = org.call("PUT", "/roles/hr_manager", json={"permissions": [*hr_permissions, "users:write"]})
    assert granted.status_code == 200, granted.text
    hr_admin = people.tokens["hr"]  # an hr_manager user holding users:write now

    def email_of(employee: str) -> str:
        return str(org.call("GET", f"/employees/{employee}").json()["email"])

    # Spare unlinked accounts (made by the admin) under E's and O's own emails: a user administrator who is not
    # an admin links an account only to the employee whose email it has (test_review_authz_accounts).
    spare = {}
    for name in ("E", "O"):
        made = org.call("POST", "/users", json={"email": email_of(people.emp[name]), "role": "employee"})
        assert made.status_code == 201, made.text
        spare[name] = made.json()["userId"]
    newcomer = org.hire(lastName="Newcomer")  # no account yet

    # (case, caller, method, path, body, expected status, expected rule); M and E have an active account each.
    cases: list[tuple[str, str, str, str, dict[str, Any], int, str | None]] = [
        ("hr links a new account to the manager", hr_admin, "POST", "/users",
         {"email": email_of(people.emp["M"]), "role": "employee", "employeeId": people.emp["M"]},
         409, "employee-has-user"),
        ("hr links an existing account to an employee", hr_admin, "PATCH", f"/users/{spare['E']}",
         {"employeeId": people.emp["E"]}, 409, "employee-has-user"),
        ("the admin links a new account to the manager", org.admin, "POST", "/users",
         {"email": _email(), "role": "manager", "employeeId": people.emp["M"]}, 409, "employee-has-user"),
        ("hr links a new account to a newcomer without one", hr_admin, "POST", "/users",
         {"email": email_of(newcomer), "role": "employee", "employeeId": newcomer}, 201, None),
        ("hr links the spare account to O, who has none", hr_admin, "PATCH", f"/users/{spare['O']}",
         {"employeeId": people.emp["O"]}, 200, None),
        ("a second account for O after that", hr_admin, "POST", "/users",
         {"email": email_of(people.emp["O"]), "role": "employee", "employeeId": people.emp["O"]},
         409, "employee-has-user"),
    ]  # fmt: skip
    failures = []
    for case, token, method, path, body, status, rule in cases:
        response = org.call(method, path, token, json=body)
        got_rule = response.json().get("rule") if response.status_code >= 400 else None
        if (response.status_code, got_rule) != (status, rule):
            failures.append(f"{case}: expected {status} {rule}, got {response.status_code}: {response.text[:300]}")
    assert not failures, "\n".join(failures)
    linked = [u for u in org.call("GET", "/users", params={"limit": 200}).json()["items"]]
    assert [u["userId"] for u in linked if u["employeeId"] == people.emp["O"]] == [spare["O"]]


def test_a_disabled_account_frees_the_employee_and_stays_out_of_the_way(people: People) -> None:
    org = people.org
    first = org.call("POST", "/users", json={"email": _email(), "role": "employee", "employeeId": people.emp["O"]})
    assert first.status_code == 201, first.text
    first_id = first.json()["userId"]

    disabled = org.call("PATCH", f"/users/{first_id}", json={"status": "disabled"})
    assert disabled.status_code == 200, disabled.text
    second = org.call("POST", "/users", json={"email": _email(), "role": "employee", "employeeId": people.emp["O"]})
    assert second.status_code == 201, second.text

    # (body of the PATCH of the disabled first account, expected status, expected rule)
    table: list[tuple[dict[str, Any], int, str | None]] = [
        ({"status": "active"}, 409, "employee-has-user"),  # two active accounts for O again
        ({"employeeId": None}, 200, None),  # unlinking a disabled account is fine
        ({"status": "active"}, 200, None),  # and active again, unlinked
    ]
    for body, status, rule in table:
        expect(org.call("PATCH", f"/users/{first_id}", json=body), status, rule)
