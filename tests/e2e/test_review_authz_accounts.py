"""Review of account takeover by a user administrator who is not an admin, through the local gateway.

The policy: an account speaks for one person, and only that person learns its password, unless an admin
hands it over. A non-admin who was given `users:write` (here: the hr_manager role, by the admin, through
the roles API) could otherwise sign in as someone else, or as a second self, and so step around every
duty keyed to the caller's employee record (own salary, own leave, own pay in a run ...).

Each table below is written by hand from that policy, never derived from the application's tables:
- POST /users/{id}/password-reset (it returns a temporary password) is for admins: 403 `admins-only`,
  and the victim's password still signs in;
- POST /users by a non-admin: linked to an employee, under that employee's email, without a password,
  else 403 `account-owner` naming the field; the account's password is then known to nobody
  (`temporaryPassword` null) and its owner is mailed a link that sets it (POST /auth/reset-password);
- PATCH /users/{id} by a non-admin: the employee link changes only to the employee whose email the
  account has (never unlinked), else 403 `account-owner`;
- one active account per employee still holds (409 `employee-has-user`);
- the admin may still do all of it.
A refusal leaves the users table as it was and sends no mail.

World: B (the HR user's manager), H (the HR user's own record, reports to B), X (an employee reporting to
B), P (a peer hr_manager's record) each with an account of known password under an email that is not
their employee email; C1..C4, colleagues without an account.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hrms.auth import tokens
from hrms.auth.passwords import hash_password
from hrms_tools.local.mail import CapturedMail, captured
from tests.e2e.http_world import Org

PROBLEM = "application/problem+json"
PASSWORD = "violet-harbour-lantern-97"
NEW_PASSWORD = "quiet orchard meteor 53 drifts"


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    token: str


@dataclass
class World:
    org: Org
    emp: dict[str, str]  # name -> employee id
    emails: dict[str, str]  # name -> the employee record's email
    accounts: dict[str, Account]  # B, H (the hr user), X, P


def _email() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.com"


def account(org: Org, role: str, employee_id: str | None) -> Account:
    """A user with PASSWORD under a fresh email (not their employee record's), no change required."""
    email = _email()
    row = org.sql(
        "INSERT INTO {} (email, password_hash, role, employee_id, must_change_password)"
        " VALUES (%s, %s, %s, %s, false) RETURNING id",
        "users",
        (email, hash_password(PASSWORD), role, employee_id),
    )
    user_id = str(row[0]["id"])
    return Account(user_id, email, tokens.issue(user_id, role, tid=str(org.tenant.tenant_id)))


def login(org: Org, email: str, password: str) -> httpx.Response:
    return org.client.post("/auth/login", json={"tenantSlug": org.tenant.slug, "email": email, "password": password})


def users_table(org: Org) -> list[tuple[Any, ...]]:
    rows = org.sql(
        "SELECT id, email, role, employee_id, status, password_hash, credentials_epoch FROM {} ORDER BY id", "users"
    )
    return [tuple(r.values()) for r in rows]


def link_events(org: Org) -> int:
    """The tenant's `password.reset_requested` outbox events (what makes the Notifier mail a link)."""
    found = org.sql("SELECT count(*) AS n FROM {} WHERE event_type = 'password.reset_requested'", "outbox")
    return int(found[0]["n"])


def mail_to(address: str) -> list[CapturedMail]:
    return captured(os.environ["AWS_ENDPOINT_URL"], address)


def wait_for_mail(address: str, timeout_s: float = 30.0) -> CapturedMail:
    deadline = time.monotonic() + timeout_s
    while not (found := mail_to(address)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(found) == 1, f"{len(found)} mail(s) to {address}, expected 1"
    return found[0]


def token_in(mail: CapturedMail) -> str:
    [line] = [line for line in mail.text.splitlines() if "token=" in line]
    return line.split("token=", 1)[1].strip()


def refused(response: httpx.Response, rule: str, fields: list[str] | None = None) -> str | None:
    """None if the response is the 403 of `rule` (naming `fields` in `errors`, when given), else what is wrong."""
    if response.status_code != 403 or response.headers.get("content-type") != PROBLEM:
        return f"expected 403 {rule}, got {response.status_code}: {response.text[:300]}"
    body = response.json()
    if body.get("rule") != rule:
        return f"expected rule {rule}: {response.text[:300]}"
    if fields is not None and sorted(e["field"] for e in body.get("errors", [])) != sorted(fields):
        return f"expected errors on {fields}: {response.text[:300]}"
    return None


@pytest.fixture
def world(org: Org) -> World:
    boss = org.hire(lastName="Boss")
    emp = {
        "B": boss,
        "H": org.hire(managerId=boss, lastName="Hr"),
        "X": org.hire(managerId=boss, lastName="Report"),
        "P": org.hire(lastName="Peer"),
        **{f"C{i}": org.hire(lastName=f"Colleague{i}") for i in range(1, 5)},
    }
    emails = {name: str(org.call("GET", f"/employees/{e}").json()["email"]) for name, e in emp.items()}
    accounts = {
        "B": account(org, "manager", emp["B"]),
        "H": account(org, "hr_manager", emp["H"]),
        "X": account(org, "employee", emp["X"]),
        "P": account(org, "hr_manager", emp["P"]),
    }
    roles = org.call("GET", "/roles").json()
    hr_permissions = next(r["permissions"] for r in roles if r["role"] == "hr_manager")
    assert "users:write" not in hr_permissions
    granted = org.call("PUT", "/roles/hr_manager", json={"permissions": [*hr_permissions, "users:write"]})
    assert granted.status_code == 200, granted.text
    return World(org, emp, emails, accounts)


# ---------------------------------------------------------------- 1. password resets are for admins


def test_a_user_administrator_who_is_not_an_admin_resets_nobodys_password(world: World) -> None:
    org, hr = world.org, world.accounts["H"].token
    # (case, whose account) -> 403 admins-only for every one of them
    victims = [
        ("hr resets their manager's password", "B"),
        ("hr resets an employee's password", "X"),
        ("hr resets a peer hr user's password", "P"),
        ("hr resets their own password", "H"),
    ]
    failures = []
    for case, whose in victims:
        victim = world.accounts[whose]
        before = users_table(org)
        problem = refused(org.call("POST", f"/users/{victim.user_id}/password-reset", hr), "admins-only")
        if problem:
            failures.append(f"{case}: {problem}")
            continue
        if users_table(org) != before:
            failures.append(f"{case}: the users table changed on a refusal")
        signed_in = login(org, victim.email, PASSWORD)
        if signed_in.status_code != 200:
            failures.append(f"{case}: the victim's password no longer signs in: {signed_in.text[:200]}")
        if org.call("GET", "/me", victim.token).status_code != 200:
            failures.append(f"{case}: the victim's token was revoked")
    assert not failures, "\n".join(failures)
    unknown = org.call("POST", f"/users/{uuid.uuid4()}/password-reset", hr)
    assert refused(unknown, "admins-only") is None  # refused before looking the account up

    victim = world.accounts["B"]
    reset = org.call("POST", f"/users/{victim.user_id}/password-reset")  # the admin
    assert reset.status_code == 200, reset.text
    assert reset.json()["temporaryPassword"]
    assert login(org, victim.email, PASSWORD).status_code == 401
    assert login(org, victim.email, reset.json()["temporaryPassword"]).status_code == 200


# ---------------------------------------------------------------- 2. accounts created by a non-admin


def test_a_user_administrator_who_is_not_an_admin_creates_only_accounts_for_their_owner(world: World) -> None:
    org, hr = world.org, world.accounts["H"].token
    c1, c1_email = world.emp["C1"], world.emails["C1"]
    # (case, body, expected fields of `errors`)
    refusals: list[tuple[str, dict[str, Any], list[str]]] = [
        ("unlinked", {"email": _email(), "role": "employee"}, ["body.employeeId"]),
        ("unlinked, under a colleague's email", {"email": c1_email, "role": "employee"}, ["body.employeeId"]),
        (
            "with a password of the caller's choosing",
            {"email": c1_email, "role": "employee", "employeeId": c1, "password": NEW_PASSWORD},
            ["body.password"],
        ),
        (
            "linked to a colleague without an account, under another email",
            {"email": _email(), "role": "employee", "employeeId": c1},
            ["body.email"],
        ),
        (
            "linked to a colleague, under the email of another colleague",
            {"email": world.emails["C2"], "role": "employee", "employeeId": c1},
            ["body.email"],
        ),
        (
            "a second self: linked to the caller's own record, under another email",
            {"email": _email(), "role": "hr_manager", "employeeId": world.emp["H"]},
            ["body.email"],
        ),
        (
            "unlinked with a password",
            {"email": _email(), "role": "employee", "password": NEW_PASSWORD},
            ["body.employeeId", "body.password"],
        ),
    ]
    failures = []
    events = link_events(org)
    for case, body, fields in refusals:
        before = users_table(org)
        problem = refused(org.call("POST", "/users", hr, json=body), "account-owner", fields)
        if problem:
            failures.append(f"{case}: {problem}")
        elif users_table(org) != before:
            failures.append(f"{case}: the users table changed on a refusal")
    assert not failures, "\n".join(failures)
    assert link_events(org) == events, "a refused create wrote a mail event"

    # one active account per employee still holds, for the owner's own email too
    before = users_table(org)
    taken = org.call(
        "POST", "/users", hr, json={"email": world.emails["X"], "role": "employee", "employeeId": world.emp["X"]}
    )
    assert taken.status_code == 409 and taken.json()["rule"] == "employee-has-user", taken.text
    assert users_table(org) == before and link_events(org) == events
    unknown = org.call(
        "POST", "/users", hr, json={"email": _email(), "role": "employee", "employeeId": str(uuid.uuid4())}
    )
    assert unknown.status_code == 422, unknown.text
    assert [e["field"] for e in unknown.json()["errors"]] == ["body.employeeId"]
    assert users_table(org) == before and link_events(org) == events

    # the owner's own account: 201, no password anyone knows, a set-password link mailed to the owner
    created = org.call("POST", "/users", hr, json={"email": c1_email.upper(), "role": "employee", "employeeId": c1})
    assert created.status_code == 201, created.text
    made = created.json()
    assert (made["email"], made["employeeId"], made["temporaryPassword"]) == (c1_email, c1, None)
    assert link_events(org) == events + 1
    mail = wait_for_mail(c1_email)
    reset = org.client.post("/auth/reset-password", json={"token": token_in(mail), "newPassword": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text
    signed_in = login(org, c1_email, NEW_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    me = org.call("GET", "/me", str(signed_in.json()["accessToken"]))
    assert me.status_code == 200 and me.json()["employeeId"] == c1, me.text

    again = org.call("POST", "/users", hr, json={"email": c1_email, "role": "employee", "employeeId": c1})
    assert again.status_code == 409, again.text
    assert len(mail_to(c1_email)) == 1


def test_a_replayed_create_by_a_non_admin_neither_mails_twice_nor_reveals_anything(world: World) -> None:
    org, hr = world.org, world.accounts["H"].token
    body = {"email": world.emails["C2"], "role": "employee", "employeeId": world.emp["C2"]}
    headers = {"Authorization": f"Bearer {hr}", "Idempotency-Key": str(uuid.uuid4())}
    first = org.client.post("/users", headers=headers, json=body)
    assert first.status_code == 201 and first.json()["temporaryPassword"] is None, first.text
    events = link_events(org)
    replay = org.client.post("/users", headers=headers, json=body)
    assert replay.status_code == 201 and replay.json()["userId"] == first.json()["userId"], replay.text
    assert replay.json()["temporaryPassword"] is None
    assert link_events(org) == events
    wait_for_mail(world.emails["C2"])


# ---------------------------------------------------------------- 3. employee links changed by a non-admin


def test_a_user_administrator_who_is_not_an_admin_links_an_account_only_to_its_owner(world: World) -> None:
    org, hr = world.org, world.accounts["H"].token
    spare = org.call("POST", "/users", json={"email": world.emails["C3"], "role": "employee"})  # by the admin
    assert spare.status_code == 201, spare.text
    spare_id = spare.json()["userId"]
    x, own = world.accounts["X"].user_id, world.accounts["H"].user_id
    # (case, account, body, expected status, expected rule)
    cases: list[tuple[str, str, dict[str, Any], int, str | None]] = [
        ("hr unlinks an employee's account", x, {"employeeId": None}, 403, "account-owner"),
        ("hr relinks an employee's account to a colleague", x, {"employeeId": world.emp["C4"]}, 403, "account-owner"),
        ("hr unlinks their own account", own, {"employeeId": None}, 403, "account-owner"),
        ("hr relinks their own account to a colleague", own, {"employeeId": world.emp["C4"]}, 403, "account-owner"),
        ("hr links a spare account to someone else", spare_id, {"employeeId": world.emp["C4"]}, 403, "account-owner"),
        ("hr restates an employee's link unchanged", x, {"employeeId": world.emp["X"], "status": "active"}, 200, None),
        ("hr links the spare account to its owner", spare_id, {"employeeId": world.emp["C3"]}, 200, None),
        ("hr unlinks it again", spare_id, {"employeeId": None}, 403, "account-owner"),
    ]  # fmt: skip
    failures = []
    for case, user_id, body, status, rule in cases:
        before = users_table(org)
        response = org.call("PATCH", f"/users/{user_id}", hr, json=body)
        if rule is not None:
            problem = refused(response, rule, ["body.employeeId"])
            if problem:
                failures.append(f"{case}: {problem}")
            elif users_table(org) != before:
                failures.append(f"{case}: the users table changed on a refusal")
        elif response.status_code != status:
            failures.append(f"{case}: expected {status}, got {response.status_code}: {response.text[:300]}")
    assert not failures, "\n".join(failures)
    assert org.call("GET", f"/users/{spare_id}").json()["employeeId"] == world.emp["C3"]
    assert org.call("GET", "/me", world.accounts["H"].token).json()["employeeId"] == world.emp["H"]


# ---------------------------------------------------------------- 4. the admin still does all of it


def test_the_admin_still_hands_accounts_and_passwords_over(world: World) -> None:
    org = world.org
    events = link_events(org)
    # (case, method, path, body, expected status)
    cases: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
        ("reset a peer's password", "POST", f"/users/{world.accounts['P'].user_id}/password-reset", None, 200),
        ("create unlinked", "POST", "/users", {"email": _email(), "role": "employee"}, 201),
        ("create with a password", "POST", "/users",
         {"email": _email(), "role": "employee", "password": NEW_PASSWORD}, 201),
        ("create linked to a colleague under another email", "POST", "/users",
         {"email": _email(), "role": "employee", "employeeId": world.emp["C4"]}, 201),
        ("unlink an account", "PATCH", f"/users/{world.accounts['X'].user_id}", {"employeeId": None}, 200),
        ("relink it to someone else", "PATCH", f"/users/{world.accounts['X'].user_id}",
         {"employeeId": world.emp["C1"]}, 200),
    ]  # fmt: skip
    failures = []
    answers: dict[str, dict[str, Any]] = {}
    for case, method, path, body, status in cases:
        response = org.call(method, path, json=body) if body is not None else org.call(method, path)
        if response.status_code != status:
            failures.append(f"{case}: expected {status}, got {response.status_code}: {response.text[:300]}")
        else:
            answers[case] = response.json()
    assert not failures, "\n".join(failures)
    assert answers["reset a peer's password"]["temporaryPassword"]
    assert answers["create unlinked"]["temporaryPassword"]
    assert answers["create with a password"]["temporaryPassword"] is None
    assert answers["create linked to a colleague under another email"]["temporaryPassword"]
    assert answers["relink it to someone else"]["employeeId"] == world.emp["C1"]
    assert link_events(org) == events  # an admin hands the password over: no link is mailed
