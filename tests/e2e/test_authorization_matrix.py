"""The authorization matrix through the local gateway: one row per route of template.yaml.

Every expectation below is written by hand from the authorization policy (the default role
permission sets, scopes `all`/`team`/`self`, platform-only routes, the duties), never computed from
the application's own permission tables. A row names the route (method and path template, as in
template.yaml), how to call it for a caller and a subject, and the expected answer per cell.

Callers: `anon` (no token), `platform` (platform_admin), and the four tenant roles `admin`,
`hr` (hr_manager), `manager` and `employee`. The world (one tenant, built once for the module):

    A  the admin user's own employee record
    H  the hr_manager user's employee record
    M  the manager user's employee record
    E  the employee user's employee record; E reports to M
    O  an unrelated employee (no manager)

Subjects of a cell: `self` (the caller's own record: A, H, M or E), `report` (E; for the employee
caller there is no report column) and `other` (O); a few rows add `own` (a document the caller
uploaded about themself) or `report-own`. Platform and anonymous callers use the `other` subject.

Expected values: an HTTP status; `OK2XX` (any success); `LISTED` / `HIDDEN` (a 200 list that
does / does not contain the subject's object); `RULE` (403 whose problem names the broken duty in
`rule`); `HEALTHY` (200 or 503); `NOT_FOUND_LIKE` (a 4xx other than 401/403: the platform admin's
validation and not-found answers on the slow backup routes).
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from psycopg import sql

from hrms.auth import tokens
from hrms.auth.users import find_user_by_email
from hrms.db.postgres import transaction
from tests.conftest import bearer
from tests.e2e.http_world import usable

PROBLEM = "application/problem+json"
STRONG = "correct-horse-battery-42"
STRONGER = "violet-tractor-marmalade-93"

OK2XX = "2xx"
LISTED = "listed"
HIDDEN = "hidden"
RULE = "403+rule"
HEALTHY = "200|503"
NOT_FOUND_LIKE = "4xx, not 401/403"

Expect = int | str
Cell = Expect | dict[str, Expect]

ROLES = ("admin", "hr", "manager", "employee")
ROLE_NAME = {"admin": "admin", "hr": "hr_manager", "manager": "manager", "employee": "employee", "grantee": "employee"}
SELF_OF = {"admin": "A", "hr": "H", "manager": "M", "employee": "E", "grantee": "M"}
DEFAULT_SUBJECTS = ("self", "report", "other")

# Shorthands for the scoped rows (written from the policy's meaning of `team` and `self`).
TEAM_READ: dict[str, Expect] = {"self": 200, "report": 200, "other": 404}
SELF_READ: dict[str, Expect] = {"self": 200, "report": 404, "other": 404}
TEAM_WRITE: dict[str, Expect] = {"self": OK2XX, "report": OK2XX, "other": 404}
SELF_WRITE: dict[str, Expect] = {"self": OK2XX, "report": 404, "other": 404}
ALL_LISTED: dict[str, Expect] = {"self": LISTED, "report": LISTED, "other": LISTED}
TEAM_LISTED: dict[str, Expect] = {"self": LISTED, "report": LISTED, "other": HIDDEN}
SELF_LISTED: dict[str, Expect] = {"self": LISTED, "report": HIDDEN, "other": HIDDEN}

IMPORT = {"kind": "employees", "fileName": "people.csv", "contentType": "text/csv", "sizeBytes": 100}
STRUCTURE = {
    "components": [
        {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": 50},
        {"code": "hra", "name": "HRA", "kind": "earning", "calc": "percent_of_basic", "value": "40"},
        {"code": "pf", "name": "PF", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
    ],
}
FORM = {
    "name": "Annual review",
    "cycle": "2026",
    "allowSelfAssessment": True,  # so a self appraisal is reachable: the cells test access, not the form
    "fields": [
        {"key": "summary", "label": "Summary", "type": "text", "required": True},
        {"key": "overall", "label": "Overall", "type": "rating", "required": True},
    ],
}
COMPLETE = {"summary": "Solid year", "overall": 4}
DOCUMENT = {"category": "id_proof", "fileName": "passport.pdf", "contentType": "application/pdf", "sizeBytes": 10}
MISSING_BACKUP = "backups/schemas/tenant_nobody/backup_schema_19700101T000000Z.dump"


@dataclass
class Req:
    """One call of a row's route: path parameters, body, query, an optional token override."""

    path: dict[str, str] = field(default_factory=dict)
    json: Any = None
    query: dict[str, Any] | None = None
    token: str | None = None
    probe: tuple[str, str] | None = None  # list rows: (item key, the subject object's id)


Build = Callable[["World", str, str], Req]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    build: Build
    cells: dict[str, Cell]
    subjectful: bool

    def subjects(self, caller: str) -> list[tuple[str, Expect]]:
        cell = self.cells[caller]
        if caller in ("anon", "platform") or not self.subjectful:
            assert not isinstance(cell, dict), (self.method, self.path, caller)
            return [("other" if self.subjectful else "-", cell)]
        pairs = list(cell.items()) if isinstance(cell, dict) else [(s, cell) for s in DEFAULT_SUBJECTS]
        if caller == "employee":  # the employee has no report: report == other
            pairs = [(s, e) for s, e in pairs if not s.startswith("report")]
        return pairs


def row(
    method: str,
    path: str,
    build: Build,
    *,
    admin: Cell,
    hr: Cell,
    manager: Cell,
    employee: Cell,
    platform: Expect = 403,
    anon: Expect = 401,
    subjectful: bool = False,
) -> Row:
    cells = {"anon": anon, "platform": platform, "admin": admin, "hr": hr, "manager": manager, "employee": employee}
    subjectful = subjectful or any(isinstance(c, dict) for c in cells.values())
    return Row(method, path, build, cells, subjectful)


def platform_row(method: str, path: str, build: Build, platform: Expect) -> Row:
    """A platform route: the platform admin only, every tenant role (the admin too) gets 403."""
    return row(method, path, build, admin=403, hr=403, manager=403, employee=403, platform=platform)


# ---------------------------------------------------------------- the world


class World:
    """One tenant through HTTP with A, H, M, E (reports to M) and O, and objects of each."""

    def __init__(self, client: httpx.Client, tenant: Any, gateway: Any, platform_token: str) -> None:
        self.client, self.tenant, self.gateway = client, tenant, gateway
        self.counter = itertools.count(1)
        self.leave_days = _weekdays(dt.date(2027, 1, 4))
        self.months = iter([f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)])
        usable(tenant, gateway)
        admin = find_user_by_email(tenant.slug, tenant.admin_email)
        self.tokens: dict[str, str] = {
            "platform": platform_token,
            "admin": tokens.issue(str(admin.user_id), "admin", tid=str(tenant.tenant_id)),
        }
        self.refs = {
            "departmentId": self.ok("POST", "/departments", json={"name": "Eng", "code": "ENG"})["departmentId"],
            "designationId": self.ok("POST", "/designations", json={"title": "Engineer"})["designationId"],
        }
        self.emp: dict[str, str] = {}
        for person in ("A", "H", "M", "O"):
            self.emp[person] = self.hire(lastName=f"Person{person}")
        self.emp["E"] = self.hire(lastName="PersonE", managerId=self.emp["M"])
        self.sql("UPDATE {} SET employee_id = %s WHERE id = %s", "users", (self.emp["A"], admin.user_id))
        for caller, person in (("hr", "H"), ("manager", "M"), ("employee", "E")):
            self.tokens[caller] = self.user_token(ROLE_NAME[caller], self.emp[person])
        usable(tenant, gateway)

        types = self.ok("GET", "/leave-types")["items"]
        self.unpaid = next(t["leaveTypeId"] for t in types if t["code"] == "unpaid")
        self.leave_type = self.ok("POST", "/leave-types", json={"code": "matrix", "name": "Matrix", "annualQuota": 2})[
            "leaveTypeId"
        ]
        self.department = self.fresh_department()
        self.designation = self.fresh_designation()
        self.ok("POST", "/holidays", json={"date": "2031-12-31", "name": "Matrix eve"})

        self.leave = {p: self.fresh_leave(p)["leaveId"] for p in self.emp}
        self.document = {p: self.fresh_document(p) for p in self.emp}
        self.form = self.ok("POST", "/appraisal-forms", json=FORM)["formId"]
        self.appraisal = {p: self.fresh_draft(p) for p in self.emp}

        self.structure = self.ok("POST", "/salary-structures", json={**STRUCTURE, "name": "Standard"})[
            "salaryStructureId"
        ]
        # H's salary starts in 2026: the 2024/2025 runs of the approve cells hold no line of H's,
        # so the hr_manager's own-pay duty cannot be what answers there.
        for person, start in (("E", "2024-01-01"), ("M", "2024-01-01"), ("O", "2024-01-01"), ("H", "2026-01-01")):
            body = {"salaryStructureId": self.structure, "annualCtc": "600000.00", "effectiveFrom": start}
            self.ok("POST", f"/employees/{self.emp[person]}/salaries", json=body)
        today = dt.date.today()
        self.stats_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        self.run = self.ok("POST", "/payroll/runs", json={"month": self.stats_month})["payrollRunId"]
        self.export = self.ok("POST", "/exports", json={"kind": "employees", "format": "csv"})["exportId"]
        # A processed run whose payslips the worker has stored: E, M and O are paid (A has no salary, H's
        # starts in 2026), so A's and H's own payslip of it does not exist.
        self.slip_run = self.approved_run()
        self.ok("POST", f"/payroll/runs/{self.slip_run}/process")
        self.gateway.runtime.queues.drain(timeout_s=120)

        self.ok("PUT", "/settings", json={"settings": {"currency": "INR"}, "expectedVersion": 0})
        self.ok("PUT", "/feature-flags/matrix-flag", json={"enabled": True, "rolloutPercent": 100})
        self.dummy_user = self.ok("POST", "/users", json={"email": self.email(), "role": "employee"})["userId"]
        self.login_email = self.email()
        self.ok("POST", "/users", json={"email": self.login_email, "role": "employee", "password": STRONG})
        self.employee_permissions = self.role_permissions("employee")
        self.leave_steps = self.ok("GET", "/approval-workflows/leave")["steps"]
        self.features = self.ok("GET", f"/tenants/{tenant.tenant_id}/features", "platform")["features"]
        usable(tenant, gateway)

    # -- plumbing

    def sql(self, query: str, table: str, params: Any = None) -> list[dict[str, Any]]:
        with transaction() as conn:
            cursor = conn.execute(sql.SQL(query).format(sql.Identifier(self.tenant.schema_name, table)), params)
            return cursor.fetchall() if cursor.description else []

    def call(self, method: str, path: str, caller: str = "admin", **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, headers=bearer(self.tokens[caller]), **kwargs)

    def ok(self, method: str, path: str, caller: str = "admin", **kwargs: Any) -> Any:
        """A setup call that must succeed (setup goes through admin/HR/platform, never a cell's caller)."""
        response = self.call(method, path, caller, **kwargs)
        assert 200 <= response.status_code < 300, f"setup {method} {path} as {caller}: {response.text}"
        return response.json() if response.content else None

    def n(self) -> int:
        return next(self.counter)

    def email(self) -> str:
        return f"m{self.n()}-{secrets.token_hex(3)}@example.com"

    def person(self, caller: str, subject: str) -> str:
        if subject in ("self", "own"):
            return SELF_OF[caller]
        return "E" if subject.startswith("report") else "O"

    def user_token(self, role: str, employee_id: str | None) -> str:
        created = self.sql(
            "INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, 'x', %s, %s) RETURNING id",
            "users",
            (self.email(), role, employee_id),
        )
        return tokens.issue(str(created[0]["id"]), role, tid=str(self.tenant.tenant_id))

    def new_import(self) -> str:
        return str(self.ok("POST", "/imports", json=IMPORT)["importId"])

    def role_permissions(self, role: str) -> list[str]:
        roles = self.ok("GET", "/roles")
        return list(next(r["permissions"] for r in roles if r["role"] == role))

    # -- objects

    def hire(self, **fields: Any) -> str:
        body = {
            "email": self.email(),
            "firstName": "Asha",
            "lastName": "Rao",
            "dateOfJoining": "2024-01-01",
            **self.refs,
            **fields,
        }
        return str(self.ok("POST", "/employees", json=body)["employeeId"])

    def leave_body(self, employee: str | None = None) -> dict[str, Any]:
        day = next(self.leave_days).isoformat()
        body: dict[str, Any] = {"leaveTypeId": self.unpaid, "startDate": day, "endDate": day, "reason": "Matrix"}
        if employee is not None:
            body["employeeId"] = employee
        return body

    def fresh_leave(self, person: str) -> dict[str, Any]:
        """A pending leave of `person` (unpaid, one future weekday of its own), requested by the admin."""
        result: dict[str, Any] = self.ok("POST", "/leaves", json=self.leave_body(self.emp[person]))
        return result

    def fresh_document(self, person: str, uploader: str = "hr") -> str:
        body = {**DOCUMENT, "employeeId": self.emp[person]}
        return str(self.ok("POST", "/documents", uploader, json=body)["documentId"])

    def fresh_draft(self, person: str) -> str:
        body = {"formId": self.form, "employeeId": self.emp[person], "responses": COMPLETE}
        return str(self.ok("POST", "/appraisals", json=body)["appraisalId"])

    def fresh_run(self, creator: str) -> str:
        return str(self.ok("POST", "/payroll/runs", creator, json={"month": next(self.months)})["payrollRunId"])

    def approved_run(self) -> str:
        run = self.fresh_run("hr")
        self.ok("POST", f"/payroll/runs/{run}/approve", json={"comment": "ok"})
        return run

    def fresh_department(self) -> str:
        n = self.n()
        return str(self.ok("POST", "/departments", json={"name": f"Dept {n}", "code": f"D{n}"})["departmentId"])

    def fresh_designation(self) -> str:
        return str(self.ok("POST", "/designations", json={"title": f"Title {self.n()}"})["designationId"])

    def fresh_holiday(self) -> str:
        return str(self.ok("POST", "/holidays", json={"date": self.holiday_date(), "name": "Matrix"})["holidayId"])

    def holiday_date(self) -> str:
        return (dt.date(2031, 1, 1) + dt.timedelta(days=self.n())).isoformat()

    def password_token(self, caller: str) -> str | None:
        """A throwaway user of the caller's role with a known password (changing it ends its tokens)."""
        if caller not in ROLE_NAME:
            return None
        body = {"email": self.email(), "role": ROLE_NAME[caller], "password": STRONG}
        user = self.ok("POST", "/users", json=body)
        self.gateway.auth_cache.clear()
        return tokens.issue(str(user["userId"]), ROLE_NAME[caller], tid=str(self.tenant.tenant_id))


def _weekdays(start: dt.date) -> Iterator[dt.date]:
    day = start
    while True:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=1)


# ---------------------------------------------------------------- how each route is called


def _none(w: World, caller: str, subject: str) -> Req:
    return Req()


def _tenant(w: World, caller: str, subject: str) -> Req:
    return Req(path={"tenantId": str(w.tenant.tenant_id)})


def _emp(w: World, caller: str, subject: str) -> Req:
    return Req(path={"employeeId": w.emp[w.person(caller, subject)]})


def _listing(key: str, objects: Callable[[World], dict[str, str]], **query: Any) -> Build:
    def build(w: World, caller: str, subject: str) -> Req:
        return Req(query={"limit": 200, **query}, probe=(key, objects(w)[w.person(caller, subject)]))

    return build


def _new_tenant(w: World, caller: str, subject: str) -> Req:
    slug = f"mx-{secrets.token_hex(4)}"
    return Req(json={"name": "Matrix probe", "slug": slug, "adminEmail": f"admin@{slug}.example.com"})


def _password(w: World, caller: str, subject: str) -> Req:
    return Req(json={"currentPassword": STRONG, "newPassword": STRONGER}, token=w.password_token(caller))


def _login(w: World, caller: str, subject: str) -> Req:
    return Req(json={"tenantSlug": w.tenant.slug, "email": w.login_email, "password": STRONG})


def _new_employee(w: World, caller: str, subject: str) -> Req:
    body = {"email": w.email(), "firstName": "New", "lastName": "Hire", "dateOfJoining": "2024-01-01", **w.refs}
    return Req(json=body)


def _patch_employee(w: World, caller: str, subject: str) -> Req:
    person = w.person(caller, subject)
    return Req(path={"employeeId": w.emp[person]}, json={"lastName": f"Person{person}"})


def _leave_request(w: World, caller: str, subject: str) -> Req:
    person = w.person(caller, subject)
    return Req(json=w.leave_body(None if subject == "self" else w.emp[person]))


def _fresh_leave(w: World, caller: str, subject: str) -> Req:
    return Req(path={"leaveId": w.fresh_leave(w.person(caller, subject))["leaveId"]})


def _leave_decision(w: World, caller: str, subject: str) -> Req:
    leave = w.fresh_leave(w.person(caller, subject))
    return Req(path={"leaveId": leave["leaveId"]}, json={"decision": "approve"})


def _approval_decision(w: World, caller: str, subject: str) -> Req:
    leave = w.fresh_leave(w.person(caller, subject))
    return Req(path={"approvalId": leave["approvalId"]}, json={"decision": "approve"})


def _salary(w: World, caller: str, subject: str) -> Req:
    effective = (dt.date(2027, 1, 1) + dt.timedelta(days=w.n())).isoformat()
    body = {"salaryStructureId": w.structure, "annualCtc": "720000.00", "effectiveFrom": effective}
    return Req(path={"employeeId": w.emp[w.person(caller, subject)]}, json=body)


def _adjustment(w: World, caller: str, subject: str) -> Req:
    body = {"leaveTypeId": w.leave_type, "days": "0.5", "reason": "Matrix correction"}
    return Req(path={"employeeId": w.emp[w.person(caller, subject)]}, json=body)


def _payslip(w: World, caller: str, subject: str) -> Req:
    return Req(path={"payrollRunId": w.slip_run, "employeeId": w.emp[w.person(caller, subject)]})


def _approve_run(w: World, caller: str, subject: str) -> Req:
    creator = "admin" if caller == "hr" else "hr"  # never the approver: the creator may not approve
    return Req(path={"payrollRunId": w.fresh_run(creator)}, json={"comment": "ok"})


def _settings_update(w: World, caller: str, subject: str) -> Req:
    version = w.ok("GET", "/settings")["version"]
    return Req(json={"settings": {"currency": "INR"}, "expectedVersion": version})


def _new_document(w: World, caller: str, subject: str) -> Req:
    person = w.person(caller, subject)
    return Req(json=DOCUMENT if subject == "self" else {**DOCUMENT, "employeeId": w.emp[person]})


def _delete_document(w: World, caller: str, subject: str) -> Req:
    uploader = caller if subject.endswith("own") else "hr"
    return Req(path={"documentId": w.fresh_document(w.person(caller, subject), uploader)})


def _new_appraisal(w: World, caller: str, subject: str) -> Req:
    body = {"formId": w.form, "employeeId": w.emp[w.person(caller, subject)], "responses": {"overall": 4}}
    return Req(json=body)


ROWS: list[Row] = [
    # ------------------------------------------------------------ public
    row("GET", "/health", _none, admin=HEALTHY, hr=HEALTHY, manager=HEALTHY, employee=HEALTHY,
        platform=HEALTHY, anon=HEALTHY),
    # Public and taking no token: only the anonymous caller is called (see ANON_ONLY).
    row("POST", "/auth/login", _login, admin=200, hr=200, manager=200, employee=200, platform=200, anon=200),
    # Public account recovery: 202 whatever the account; a made-up reset token is the one generic 400.
    row("POST", "/auth/forgot-password",
        lambda w, c, s: Req(json={"tenantSlug": w.tenant.slug, "email": w.login_email}),
        admin=202, hr=202, manager=202, employee=202, platform=202, anon=202),
    row("POST", "/auth/reset-password", lambda w, c, s: Req(json={"token": "A" * 86, "newPassword": STRONGER}),
        admin=400, hr=400, manager=400, employee=400, platform=400, anon=400),
    # The caller's own notification preferences: every tenant user, nobody else's.
    row("GET", "/me/notification-preferences", _none, admin=200, hr=200, manager=200, employee=200),
    row("PUT", "/me/notification-preferences", lambda w, c, s: Req(json={"events": {"payslip.ready": False}}),
        admin=200, hr=200, manager=200, employee=200),
    row("GET", "/openapi.json", _none, admin=200, hr=200, manager=200, employee=200, platform=200, anon=200),
    row("GET", "/docs", _none, admin=200, hr=200, manager=200, employee=200, platform=200, anon=200),
    # ------------------------------------------------------------ platform
    platform_row("POST", "/tenants", _new_tenant, OK2XX),
    platform_row("GET", "/tenants", _none, 200),
    platform_row("GET", "/tenants/{tenantId}", _tenant, 200),
    platform_row("PATCH", "/tenants/{tenantId}",
                 lambda w, c, s: Req(path={"tenantId": str(w.tenant.tenant_id)}, json={"description": "matrix"}),
                 OK2XX),
    platform_row("GET", "/tenants/{tenantId}/features", _tenant, 200),
    platform_row("PUT", "/tenants/{tenantId}/features",
                 lambda w, c, s: Req(path={"tenantId": str(w.tenant.tenant_id)}, json={"features": w.features}),
                 OK2XX),
    platform_row("POST", "/admin/backups",
                 lambda w, c, s: Req(json={"kind": "schema", "tenantId": str(w.tenant.tenant_id)}), OK2XX),
    platform_row("GET", "/admin/backups",
                 lambda w, c, s: Req(query={"kind": "schema", "tenantId": str(w.tenant.tenant_id)}), 200),
    platform_row("POST", "/admin/backups/validate", lambda w, c, s: Req(json={"key": MISSING_BACKUP}),
                 NOT_FOUND_LIKE),
    platform_row("POST", "/admin/restores",
                 lambda w, c, s: Req(json={"key": MISSING_BACKUP, "tenantId": str(w.tenant.tenant_id)}),
                 NOT_FOUND_LIKE),
    # ------------------------------------------------------------ any tenant user
    row("GET", "/me", _none, admin=200, hr=200, manager=200, employee=200),
    row("POST", "/auth/password", _password, admin=OK2XX, hr=OK2XX, manager=OK2XX, employee=OK2XX),
    row("GET", "/approvals", _none, admin=200, hr=200, manager=200, employee=200),
    # ------------------------------------------------------------ users:*, roles:*, audit:read
    row("GET", "/users", _none, admin=200, hr=403, manager=403, employee=403),
    row("POST", "/users", lambda w, c, s: Req(json={"email": w.email(), "role": "employee"}),
        admin=OK2XX, hr=403, manager=403, employee=403),
    row("POST", "/users/{userId}/password-reset", lambda w, c, s: Req(path={"userId": w.dummy_user}),
        admin=OK2XX, hr=403, manager=403, employee=403),
    row("GET", "/users/{userId}", lambda w, c, s: Req(path={"userId": w.dummy_user}),
        admin=200, hr=403, manager=403, employee=403),
    row("PATCH", "/users/{userId}", lambda w, c, s: Req(path={"userId": w.dummy_user}, json={"status": "active"}),
        admin=OK2XX, hr=403, manager=403, employee=403),
    row("GET", "/roles", _none, admin=200, hr=200, manager=403, employee=403),
    row("PUT", "/roles/{role}",
        lambda w, c, s: Req(path={"role": "employee"}, json={"permissions": w.employee_permissions}),
        admin=OK2XX, hr=403, manager=403, employee=403),
    row("GET", "/audit-logs", _none, admin=200, hr=200, manager=403, employee=403),
    # ------------------------------------------------------------ org:read / org:write
    row("GET", "/departments", _none, admin=200, hr=200, manager=200, employee=200),
    row("POST", "/departments", lambda w, c, s: Req(json={"name": f"New {w.n()}", "code": f"N{w.n()}"}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/departments/{departmentId}", lambda w, c, s: Req(path={"departmentId": w.department}),
        admin=200, hr=200, manager=200, employee=200),
    row("PATCH", "/departments/{departmentId}",
        lambda w, c, s: Req(path={"departmentId": w.department}, json={"description": "matrix"}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("DELETE", "/departments/{departmentId}", lambda w, c, s: Req(path={"departmentId": w.fresh_department()}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/designations", _none, admin=200, hr=200, manager=200, employee=200),
    row("POST", "/designations", lambda w, c, s: Req(json={"title": f"Title {w.n()}"}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/designations/{designationId}", lambda w, c, s: Req(path={"designationId": w.designation}),
        admin=200, hr=200, manager=200, employee=200),
    row("PATCH", "/designations/{designationId}",
        lambda w, c, s: Req(path={"designationId": w.designation}, json={"level": 2}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("DELETE", "/designations/{designationId}",
        lambda w, c, s: Req(path={"designationId": w.fresh_designation()}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/holidays", _none, admin=200, hr=200, manager=200, employee=200),
    row("POST", "/holidays", lambda w, c, s: Req(json={"date": w.holiday_date(), "name": "New"}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("DELETE", "/holidays/{holidayId}", lambda w, c, s: Req(path={"holidayId": w.fresh_holiday()}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/org/hierarchy", _none, admin=200, hr=200, manager=200, employee=200),
    # ------------------------------------------------------------ employees:read (scoped) / employees:write
    row("POST", "/employees", _new_employee, admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/employees", _listing("employeeId", lambda w: w.emp),
        admin=ALL_LISTED, hr=ALL_LISTED, manager=TEAM_LISTED, employee=SELF_LISTED),
    row("GET", "/employees/{employeeId}", _emp, admin=200, hr=200, manager=TEAM_READ, employee=SELF_READ,
        subjectful=True),
    row("PATCH", "/employees/{employeeId}", _patch_employee, admin=OK2XX, hr=OK2XX, manager=403, employee=403,
        subjectful=True),
    row("DELETE", "/employees/{employeeId}", lambda w, c, s: Req(path={"employeeId": w.hire()}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    # ------------------------------------------------------------ leave
    row("GET", "/employees/{employeeId}/leave-balances", _emp,
        admin=200, hr=200, manager=TEAM_READ, employee=SELF_READ, subjectful=True),
    # leave-balances:adjust, organisation-level, never one's own balance.
    row("POST", "/employees/{employeeId}/leave-balances/adjustments", _adjustment,
        admin={"self": RULE, "report": OK2XX, "other": OK2XX}, hr={"self": RULE, "report": OK2XX, "other": OK2XX},
        manager=403, employee=403),
    row("GET", "/leave-types", _none, admin=200, hr=200, manager=200, employee=200),
    row("POST", "/leave-types",
        lambda w, c, s: Req(json={"code": f"lt{w.n()}", "name": "Matrix", "annualQuota": 1}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("PATCH", "/leave-types/{leaveTypeId}",
        lambda w, c, s: Req(path={"leaveTypeId": w.leave_type}, json={"name": "Matrix type"}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("POST", "/leaves", _leave_request,
        admin=OK2XX, hr=OK2XX, manager=SELF_WRITE, employee=SELF_WRITE, subjectful=True),
    row("GET", "/leaves", _listing("leaveId", lambda w: w.leave),
        admin=ALL_LISTED, hr=ALL_LISTED, manager=TEAM_LISTED, employee=SELF_LISTED),
    row("GET", "/leaves/{leaveId}", lambda w, c, s: Req(path={"leaveId": w.leave[w.person(c, s)]}),
        admin=200, hr=200, manager=TEAM_READ, employee=SELF_READ, subjectful=True),
    row("POST", "/leaves/{leaveId}/cancel", _fresh_leave,
        admin=OK2XX, hr=OK2XX, manager=SELF_WRITE, employee=SELF_WRITE, subjectful=True),
    # leave:approve, never one's own. E's leave waits on its reporting manager M; O, A, H and M have
    # no manager, so theirs wait on the hr_manager role. An approve permission of scope `all` does not
    # let its holder decide a task assigned to someone else (hr on report); the admin decides any task
    # (the engine's documented override), never their own.
    row("POST", "/leaves/{leaveId}/decision", _leave_decision,
        admin={"self": RULE, "report": OK2XX, "other": OK2XX},
        hr={"self": RULE, "report": 403, "other": OK2XX},
        manager={"self": RULE, "report": OK2XX, "other": 404},
        employee=403, subjectful=True),
    row("POST", "/approvals/{approvalId}/decision", _approval_decision,
        admin={"self": 403, "report": OK2XX, "other": OK2XX},
        hr={"self": 403, "report": 403, "other": OK2XX},
        manager={"self": 403, "report": OK2XX, "other": 403},
        employee=403, subjectful=True),
    # ------------------------------------------------------------ imports:write (organisation-level)
    row("POST", "/imports", lambda w, c, s: Req(json=IMPORT), admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/imports", _none, admin=200, hr=200, manager=403, employee=403),
    row("GET", "/imports/{importId}", lambda w, c, s: Req(path={"importId": w.new_import()}),
        admin=200, hr=200, manager=403, employee=403),
    # never uploaded: a deliberate 409 `not-uploaded`, nothing queued
    row("POST", "/imports/{importId}/start", lambda w, c, s: Req(path={"importId": w.new_import()}, json={}),
        admin=409, hr=409, manager=403, employee=403),
    # ------------------------------------------------------------ exports:write (+ the read permission, unscoped)
    row("POST", "/exports", lambda w, c, s: Req(json={"kind": "employees", "format": "csv"}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/exports/{exportId}", lambda w, c, s: Req(path={"exportId": w.export}),
        admin=200, hr=200, manager=403, employee=403),
    # ------------------------------------------------------------ settings:read / settings:write
    row("GET", "/approval-workflows/{entityType}", lambda w, c, s: Req(path={"entityType": "leave"}),
        admin=200, hr=200, manager=403, employee=403),
    row("PUT", "/approval-workflows/{entityType}",
        lambda w, c, s: Req(path={"entityType": "leave"}, json={"steps": w.leave_steps}),
        admin=OK2XX, hr=403, manager=403, employee=403),
    row("GET", "/settings", _none, admin=200, hr=200, manager=403, employee=403),
    row("PUT", "/settings", _settings_update, admin=OK2XX, hr=403, manager=403, employee=403),
    row("GET", "/settings/history", _none, admin=200, hr=200, manager=403, employee=403),
    row("POST", "/settings/rollback", lambda w, c, s: Req(json={"version": 1}),
        admin=OK2XX, hr=403, manager=403, employee=403),
    # ------------------------------------------------------------ payroll:* and salaries:read
    row("GET", "/salary-structures", _none, admin=200, hr=200, manager=403, employee=403),
    row("POST", "/salary-structures", lambda w, c, s: Req(json={**STRUCTURE, "name": f"Structure {w.n()}"}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/salary-structures/{salaryStructureId}",
        lambda w, c, s: Req(path={"salaryStructureId": w.structure}),
        admin=200, hr=200, manager=403, employee=403),
    row("PATCH", "/salary-structures/{salaryStructureId}",
        lambda w, c, s: Req(path={"salaryStructureId": w.structure}, json={"isActive": True}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    # payroll:write, organisation-level, but never one's own salary.
    row("POST", "/employees/{employeeId}/salaries", _salary,
        admin={"self": RULE, "report": OK2XX, "other": OK2XX}, hr={"self": RULE, "report": OK2XX, "other": OK2XX},
        manager=403, employee=403),
    # salaries:read; one's own salary is always readable without a grant.
    row("GET", "/employees/{employeeId}/salaries", _emp,
        admin=200, hr=200, manager=SELF_READ, employee=SELF_READ, subjectful=True),
    # payslips:read; one's own payslips are always readable without a grant.
    row("GET", "/employees/{employeeId}/payslips", _emp,
        admin=200, hr=200, manager=SELF_READ, employee=SELF_READ, subjectful=True),
    row("GET", "/payroll/runs/{payrollRunId}/payslips/{employeeId}", _payslip,
        admin={"self": 404, "report": 200, "other": 200}, hr={"self": 404, "report": 200, "other": 200},
        manager=SELF_READ, employee=SELF_READ, subjectful=True),
    row("POST", "/payroll/runs", lambda w, c, s: Req(json={"month": next(w.months)}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/payroll/runs", _none, admin=200, hr=200, manager=403, employee=403),
    row("GET", "/payroll/runs/{payrollRunId}", lambda w, c, s: Req(path={"payrollRunId": w.run}),
        admin=200, hr=200, manager=403, employee=403),
    row("GET", "/payroll/runs/{payrollRunId}/records", lambda w, c, s: Req(path={"payrollRunId": w.run}),
        admin=200, hr=200, manager=403, employee=403),
    row("POST", "/payroll/runs/{payrollRunId}/approve", _approve_run,
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("POST", "/payroll/runs/{payrollRunId}/process", lambda w, c, s: Req(path={"payrollRunId": w.approved_run()}),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/payroll/stats/{month}", lambda w, c, s: Req(path={"month": w.stats_month}),
        admin=200, hr=200, manager=403, employee=403),
    # ------------------------------------------------------------ flags:read / flags:write
    row("GET", "/feature-flags", _none, admin=200, hr=200, manager=200, employee=200),
    row("GET", "/feature-flags/{name}", lambda w, c, s: Req(path={"name": "matrix-flag"}),
        admin=200, hr=200, manager=200, employee=200),
    row("PUT", "/feature-flags/{name}", lambda w, c, s: Req(path={"name": "matrix-flag"}, json={"enabled": True}),
        admin=OK2XX, hr=403, manager=403, employee=403),
    row("GET", "/feature-flags/{name}/evaluate", lambda w, c, s: Req(path={"name": "matrix-flag"}),
        admin=200, hr=200, manager=200, employee=200),
    # ------------------------------------------------------------ documents (scoped)
    row("POST", "/documents", _new_document,
        admin=OK2XX, hr=OK2XX, manager=403, employee={"self": OK2XX, "other": 404}, subjectful=True),
    row("GET", "/documents", _listing("documentId", lambda w: w.document),
        admin=ALL_LISTED, hr=ALL_LISTED, manager=SELF_LISTED, employee=SELF_LISTED),
    row("GET", "/documents/{documentId}", lambda w, c, s: Req(path={"documentId": w.document[w.person(c, s)]}),
        admin=200, hr=200, manager=SELF_READ, employee=SELF_READ, subjectful=True),
    # With a self/team grant one deletes only what one uploaded: `self` is a document HR filed
    # about the caller, `own` one the caller uploaded about themself.
    row("DELETE", "/documents/{documentId}", _delete_document,
        admin=OK2XX, hr=OK2XX, manager=403, employee={"self": RULE, "own": OK2XX, "other": 404}, subjectful=True),
    # ------------------------------------------------------------ appraisal forms and appraisals
    row("GET", "/appraisal-forms", _none, admin=200, hr=200, manager=200, employee=200),
    row("POST", "/appraisal-forms", lambda w, c, s: Req(json=FORM), admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("GET", "/appraisal-forms/{formId}", lambda w, c, s: Req(path={"formId": w.form}),
        admin=200, hr=200, manager=200, employee=200),
    row("PUT", "/appraisal-forms/{formId}", lambda w, c, s: Req(path={"formId": w.form}, json=FORM),
        admin=OK2XX, hr=OK2XX, manager=403, employee=403),
    row("POST", "/appraisals", _new_appraisal,
        admin=OK2XX, hr=OK2XX, manager=TEAM_WRITE, employee=403, subjectful=True),
    row("GET", "/appraisals", _listing("appraisalId", lambda w: w.appraisal),
        admin=ALL_LISTED, hr=ALL_LISTED, manager=TEAM_LISTED, employee=SELF_LISTED),
    row("GET", "/appraisals/{appraisalId}", lambda w, c, s: Req(path={"appraisalId": w.appraisal[w.person(c, s)]}),
        admin=200, hr=200, manager=TEAM_READ, employee=SELF_READ, subjectful=True),
    row("POST", "/appraisals/{appraisalId}/submit",
        lambda w, c, s: Req(path={"appraisalId": w.fresh_draft(w.person(c, s))}),
        admin=OK2XX, hr=OK2XX, manager=TEAM_WRITE, employee=403, subjectful=True),
    # ------------------------------------------------------------ dashboards
    row("GET", "/dashboards/executive", _none, admin=200, hr=200, manager=403, employee=403),
    row("GET", "/dashboards/employees/{employeeId}", _emp,
        admin=200, hr=200, manager=TEAM_READ, employee=SELF_READ, subjectful=True),
]  # fmt: skip

# Rows whose token callers are not meaningful (a public route taking no token): only `anon` is called.
ANON_ONLY = {("POST", "/auth/login"), ("POST", "/auth/forgot-password"), ("POST", "/auth/reset-password")}


# ---------------------------------------------------------------- running cells


@dataclass
class Outcome:
    where: str
    expected: Expect
    status: int
    body: str


def _matches(expected: Expect, response: httpx.Response, listed: bool | None) -> bool:
    status = response.status_code
    if expected == OK2XX:
        return 200 <= status < 300
    if expected in (LISTED, HIDDEN):
        return status == 200 and listed is (expected == LISTED)
    if expected == HEALTHY:
        return status in (200, 503)
    if expected == NOT_FOUND_LIKE:
        return 400 <= status < 500 and status not in (401, 403)
    if expected == RULE:
        return status == 403 and _json(response).get("rule") is not None
    return status == expected


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _problem_mismatch(response: httpx.Response) -> str | None:
    """Errors are problem+json with type, title, status, detail and errors[]."""
    if response.status_code < 400:
        return None
    if response.headers.get("content-type") != PROBLEM:
        return f"content-type {response.headers.get('content-type')!r}, not {PROBLEM}"
    body = _json(response)
    missing = {"type", "title", "status", "detail", "errors"} - set(body)
    if missing or body.get("status") != response.status_code or not isinstance(body.get("errors"), list):
        return f"not a problem document (missing {sorted(missing)}, status {body.get('status')})"
    return None


def _listed(w: World, response: httpx.Response, method: str, path: str, req: Req, token: str | None) -> bool | None:
    """Whether the probed object is in the list (following the cursor), None when not a 200 list."""
    if req.probe is None or response.status_code != 200:
        return None
    key, wanted = req.probe
    page = response.json()
    for _ in range(50):
        if any(str(item.get(key)) == wanted for item in page["items"]):
            return True
        if not page.get("nextCursor"):
            return False
        headers = bearer(token) if token else {}
        more = w.client.request(
            method, path, headers=headers, params={**(req.query or {}), "cursor": page["nextCursor"]}
        )
        assert more.status_code == 200, more.text
        page = more.json()
    raise AssertionError(f"{method} {path}: more than 50 pages")


def run_cell(w: World, r: Row, caller: str, subject: str, expected: Expect) -> Outcome | None:
    """Call the route as `caller` about `subject`; the mismatch, or None."""
    req = r.build(w, caller, subject)
    path = r.path.format(**req.path)
    token = req.token if req.token is not None else w.tokens.get(caller)
    headers = bearer(token) if token and caller != "anon" else {}
    response = w.client.request(r.method, path, headers=headers, json=req.json, params=req.query)
    listed = _listed(w, response, r.method, path, req, token)
    where = f"{r.method} {r.path} | caller={caller} subject={subject}"
    if not _matches(expected, response, listed):
        shown = (
            response.status_code if listed is None else f"{response.status_code} ({'listed' if listed else 'hidden'})"
        )
        return Outcome(where, expected, response.status_code, f"got {shown}: {response.text[:600]}")
    problem = _problem_mismatch(response)
    if problem:
        return Outcome(where, expected, response.status_code, f"{problem}: {response.text[:300]}")
    return None


def _report(failures: list[Outcome], cells: int) -> str:
    lines = [f"{len(failures)} of {cells} cells differ from the policy:"]
    lines += [f"- {f.where}: expected {f.expected}, {f.body}" for f in failures]
    return "\n".join(lines)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world(stack: Any, gateway: Any, platform_actor: Any, platform_token: str) -> Iterator[World]:
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = f"matrix-{secrets.token_hex(4)}"
    tenant = service.create_tenant(
        NewTenant(name="Authorization matrix", slug=slug, admin_email=f"admin@{slug}.example.com"),
        platform_actor,
    )
    with httpx.Client(base_url=gateway.base_url, timeout=60) as client:
        yield World(client, tenant, gateway, platform_token)


# ---------------------------------------------------------------- tests


def test_every_route_of_the_template_has_exactly_one_row(gateway: Any) -> None:
    routes = {(route.method, route.path) for route in gateway.template.routes}
    rows = [(r.method, r.path) for r in ROWS]
    assert len(rows) == len(set(rows)), "a route has two rows"
    assert routes - set(rows) == set(), f"routes of template.yaml without a row: {sorted(routes - set(rows))}"
    assert set(rows) - routes == set(), f"rows for routes template.yaml does not have: {sorted(set(rows) - routes)}"


def test_the_matrix(world: World, gateway: Any) -> None:
    routes = {(route.method, route.path) for route in gateway.template.routes}
    assert routes == {(r.method, r.path) for r in ROWS}, "the matrix and template.yaml disagree on the routes"
    started, cells, failures = time.perf_counter(), 0, []
    for r in ROWS:
        callers = ("anon",) if (r.method, r.path) in ANON_ONLY else ("anon", "platform", *ROLES)
        for caller in callers:
            for subject, expected in r.subjects(caller):
                cells += 1
                failure = run_cell(world, r, caller, subject, expected)
                if failure is not None:
                    failures.append(failure)
    print(f"\n{cells} cells over {len(ROWS)} routes in {time.perf_counter() - started:.1f} s")
    assert not failures, _report(failures, cells)


# ---------------------------------------------------------------- scoped grants on the employee role


def _reach(scope: str, allowed: Expect, hidden: Expect = 404) -> dict[str, Expect]:
    """`self` reaches the caller's own subject, `team` also their report; nothing reaches `other`."""
    return {"self": allowed, "report": allowed if scope == "team" else hidden, "other": hidden}


# (permission, method, path, expectations per scope), written from the policy.
GRANTS: list[tuple[str, str, str, Callable[[str], dict[str, Expect]]]] = [
    ("employees:read", "GET", "/employees", lambda s: _reach(s, LISTED, HIDDEN)),
    ("employees:read", "GET", "/employees/{employeeId}", lambda s: _reach(s, 200)),
    ("leave:read", "GET", "/leaves", lambda s: _reach(s, LISTED, HIDDEN)),
    ("leave:read", "GET", "/leaves/{leaveId}", lambda s: _reach(s, 200)),
    ("leave:read", "GET", "/employees/{employeeId}/leave-balances", lambda s: _reach(s, 200)),
    ("leave:request", "POST", "/leaves", lambda s: _reach(s, OK2XX)),
    ("leave:request", "POST", "/leaves/{leaveId}/cancel", lambda s: _reach(s, OK2XX)),
    ("leave:approve", "POST", "/leaves/{leaveId}/decision", lambda s: {**_reach(s, OK2XX), "self": RULE}),
    ("appraisals:read", "GET", "/appraisals", lambda s: _reach(s, LISTED, HIDDEN)),
    ("appraisals:read", "GET", "/appraisals/{appraisalId}", lambda s: _reach(s, 200)),
    ("appraisals:write", "POST", "/appraisals", lambda s: _reach(s, OK2XX)),
    ("appraisals:write", "POST", "/appraisals/{appraisalId}/submit", lambda s: _reach(s, OK2XX)),
    ("documents:read", "GET", "/documents", lambda s: _reach(s, LISTED, HIDDEN)),
    ("documents:read", "GET", "/documents/{documentId}", lambda s: _reach(s, 200)),
    ("documents:write", "POST", "/documents", lambda s: _reach(s, OK2XX)),
    # Documents filed by HR (self, report) cannot be deleted with a self/team grant; one's own uploads can.
    (
        "documents:write",
        "DELETE",
        "/documents/{documentId}",
        lambda s: {
            "self": RULE,
            "own": OK2XX,
            "report": RULE if s == "team" else 404,
            **({"report-own": OK2XX} if s == "team" else {}),
            "other": 404,
        },
    ),
    # One's own salary needs no grant at all.
    ("salaries:read", "GET", "/employees/{employeeId}/salaries", lambda s: _reach(s, 200)),
    ("payslips:read", "GET", "/employees/{employeeId}/payslips", lambda s: _reach(s, 200)),
    ("payslips:read", "GET", "/payroll/runs/{payrollRunId}/payslips/{employeeId}", lambda s: _reach(s, 200)),
    ("dashboards:read", "GET", "/dashboards/employees/{employeeId}", lambda s: _reach(s, 200)),
]


def test_scoped_grants_on_the_employee_role(world: World) -> None:
    """A user of the employee role linked to M (E reports to M): self = M, report = E, other = O."""
    world.tokens["grantee"] = world.user_token("employee", world.emp["M"])
    usable(world.tenant, world.gateway)
    rows = {(r.method, r.path): r for r in ROWS}
    original = world.role_permissions("employee")
    cells, failures = 0, []
    try:
        for permission in dict.fromkeys(g[0] for g in GRANTS):
            for scope in ("self", "team"):
                grant = f"{permission}:{scope}"
                world.ok("PUT", "/roles/employee", json={"permissions": [grant]})
                for perm, method, path, expect in GRANTS:
                    if perm != permission:
                        continue
                    for subject, expected in expect(scope).items():
                        cells += 1
                        failure = run_cell(world, rows[(method, path)], "grantee", subject, expected)
                        if failure is not None:
                            failure.where += f" grant={grant}"
                            failures.append(failure)
    finally:
        world.ok("PUT", "/roles/employee", json={"permissions": original})
    assert not failures, _report(failures, cells)


@pytest.mark.parametrize(
    "permissions",
    [["payroll:read:self"], ["appraisal-forms:write:team"], ["settings:write:self"], ["org:read", "users:write:team"]],
)
def test_an_organisation_level_permission_cannot_be_scoped(world: World, permissions: list[str]) -> None:
    before = world.role_permissions("employee")
    response = world.call("PUT", "/roles/employee", json={"permissions": permissions})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    messages = " ".join(str(e.get("message")) for e in response.json()["errors"])
    assert permissions[-1] in messages, response.text
    assert world.role_permissions("employee") == before


@pytest.mark.parametrize("permission", ["nonsense:read", "employees:read:galaxy", "leave:fly"])
def test_an_unknown_permission_is_a_422(world: World, permission: str) -> None:
    before = world.role_permissions("employee")
    response = world.call("PUT", "/roles/employee", json={"permissions": ["org:read", permission]})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert world.role_permissions("employee") == before
