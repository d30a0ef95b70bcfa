"""A tenant holding two or more of everything the API lists, for the hostile-input tests.

Every list route then has a second page (so a real cursor can be taken from it with `limit=1`),
and every path parameter of the API has real ids to point at (`Seeded.ids`, by parameter name).
Everything is created through the gateway as the tenant admin (platform routes as the platform
admin), so the seed itself is a smoke test of the happy paths.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from psycopg import sql

from hrms.auth import tokens
from hrms.db.postgres import transaction
from tests.conftest import bearer
from tests.e2e.http_world import STRUCTURE, Org

PLATFORM_PREFIXES = ("/tenants", "/admin/")  # the platform admin's routes; every other route is a tenant's
FORM_FIELDS = [
    {"key": "summary", "label": "Summary", "type": "text", "required": True},
    {"key": "score", "label": "Score", "type": "rating", "min": 1, "max": 5},
]
DOCUMENT = {"category": "id_proof", "fileName": "passport.pdf", "contentType": "application/pdf", "sizeBytes": 10}


@dataclass
class Seeded:
    """Real ids of the tenant, keyed by the API's path parameter names (`employeeId`, `payrollRunId`...)."""

    org: Org
    platform: dict[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, *values: str) -> None:
        self.ids.setdefault(name, []).extend(values)


def _created(response: httpx.Response, key: str) -> str:
    assert response.status_code in (200, 201), f"seeding failed: {response.request.url} -> {response.text}"
    return str(response.json()[key])


def seed(org: Org, platform_token: str) -> Seeded:
    """Two or more of every listed thing in `org`'s tenant; returns their ids by path parameter name."""
    world = Seeded(org, bearer(platform_token))
    call = org.call
    tenant_id = str(org.tenant.tenant_id)
    world.add("tenantId", tenant_id)
    world.add("employeeId", org.employee, org.manager)  # the report first: two salary revisions
    world.add("departmentId", org.refs["departmentId"])
    world.add("designationId", org.refs["designationId"])

    world.add(
        "departmentId", _created(call("POST", "/departments", json={"name": "Ops", "code": "OPS"}), "departmentId")
    )
    world.add("designationId", _created(call("POST", "/designations", json={"title": "Lead"}), "designationId"))
    year = dt.date.today().year  # GET /holidays lists the current year by default
    for day, name in ((f"{year}-01-26", "Republic Day"), (f"{year}-08-15", "Independence Day")):
        world.add("holidayId", _created(call("POST", "/holidays", json={"date": day, "name": name}), "holidayId"))
    world.add("leaveTypeId", *org.types.values())
    study = {"code": "study", "name": "Study", "annualQuota": 5}
    world.add("leaveTypeId", _created(call("POST", "/leave-types", json=study), "leaveTypeId"))

    users = call("GET", "/users", params={"limit": 200}).json()["items"]
    world.add("userId", *(str(u["userId"]) for u in users))
    world.add("role", "employee", "manager", "hr_manager", "admin")

    # Leave: two requests of the report (each opens an approval task for the manager).
    for start, end in (("2024-02-05", "2024-02-06"), ("2024-03-04", "2024-03-05")):
        body = {"leaveTypeId": org.types["annual"], "startDate": start, "endDate": end, "reason": "Rest"}
        leave = call("POST", "/leaves", org.employee_token, json=body)
        world.add("leaveId", _created(leave, "leaveId"))
        world.add("approvalId", str(leave.json()["approvalId"]))
    world.add("entityType", "leave", "payroll")

    # Imports: two, so `/imports` has a second page.
    for name in ("a.csv", "b.csv"):
        body = {"kind": "employees", "fileName": name, "contentType": "text/csv", "sizeBytes": 10}
        world.add("importId", _created(call("POST", "/imports", json=body), "importId"))

    # Payroll: two structures, two salary revisions of the report, two runs of two records each.
    structure = _created(call("POST", "/salary-structures", json=STRUCTURE), "salaryStructureId")
    other = _created(call("POST", "/salary-structures", json={**STRUCTURE, "name": "Senior"}), "salaryStructureId")
    world.add("salaryStructureId", structure, other)
    for employee, ctc, since in (
        (org.manager, "900000.00", "2024-01-01"),
        (org.employee, "600000.00", "2024-01-01"),
        (org.employee, "660000.00", "2024-06-01"),
    ):
        body = {"salaryStructureId": structure, "annualCtc": ctc, "effectiveFrom": since}
        _created(call("POST", f"/employees/{employee}/salaries", json=body), "employeeSalaryId")
    for month in ("2025-01", "2025-02"):
        run = call("POST", "/payroll/runs", json={"month": month})
        world.add("payrollRunId", _created(run, "payrollRunId"))
        world.add("approvalId", str(run.json()["approvalId"]))
    world.add("month", "2025-01", "2025-02")

    # MongoDB: settings history, flags, documents, appraisal forms and appraisals.
    version = int(call("GET", "/settings").json()["version"])
    for currency in ("INR", "USD"):
        updated = call("PUT", "/settings", json={"settings": {"currency": currency}, "expectedVersion": version})
        version = int(_created(updated, "version"))
    for name in ("new-payslips", "dark-mode"):
        _created(call("PUT", f"/feature-flags/{name}", json={"enabled": True}), "name")
        world.add("name", name)
    for owner in (org.employee, org.manager):
        world.add(
            "documentId", _created(call("POST", "/documents", json={**DOCUMENT, "employeeId": owner}), "documentId")
        )
    form_body = {"name": "Annual", "cycle": "2025", "fields": FORM_FIELDS, "allowSelfAssessment": True}
    form = _created(call("POST", "/appraisal-forms", json=form_body), "formId")
    second_form = _created(call("POST", "/appraisal-forms", json={**form_body, "cycle": "2026"}), "formId")
    world.add("formId", form, second_form)
    for subject in (org.employee, org.manager):
        body = {"formId": form, "employeeId": subject, "responses": {"summary": "A good year", "score": 4}}
        world.add("appraisalId", _created(call("POST", "/appraisals", json=body), "appraisalId"))

    # Platform: two backups of the tenant's schema.
    for _ in range(2):
        backup = org.client.post(
            "/admin/backups", json={"kind": "schema", "tenantId": tenant_id}, headers=world.platform
        )
        assert backup.status_code == 201, backup.text
    return world


def restore_admin(org: Org, gateway: Any, admin_id: str, password_hash: str, permissions: list[str]) -> None:
    """After a request that was carried out: the tenant and its admin usable again (a generated 2xx may
    have suspended the tenant, demoted, disabled or re-passworded the admin, or tied them to an
    employee who left), and `org.admin` a token for the admin's current credentials epoch."""
    schema, tenant_id = org.tenant.schema_name, str(org.tenant.tenant_id)
    users, roles = sql.Identifier(schema, "users"), sql.Identifier(schema, "role_permissions")
    with transaction() as conn:
        conn.execute("UPDATE public.tenants SET status = 'active' WHERE id = %s AND status <> 'active'", (tenant_id,))
        conn.execute(
            sql.SQL(
                "UPDATE {} SET status = 'active', role = 'admin', must_change_password = false, employee_id = NULL,"
                " password_hash = %s, failed_logins = 0, locked_until = NULL WHERE id = %s"
                " AND (status, role, must_change_password, employee_id, password_hash, failed_logins, locked_until)"
                " IS DISTINCT FROM ('active', 'admin', false, NULL::uuid, %s, 0, NULL::timestamptz)"
            ).format(users),
            (password_hash, admin_id, password_hash),
        )
        conn.execute(
            sql.SQL("UPDATE {} SET permissions = %s WHERE role = 'admin' AND permissions <> %s").format(roles),
            (permissions, permissions),
        )
        row = conn.execute(
            sql.SQL("SELECT credentials_epoch FROM {} WHERE id = %s").format(users), (admin_id,)
        ).fetchone()
    epoch = int(row["credentials_epoch"]) if row else 0
    org.admin = tokens.issue(admin_id, "admin", tid=tenant_id, epoch=epoch)
    gateway.auth_cache.clear()


def path_of(template: str, world: Seeded) -> str:
    """The route's path with each `{param}` replaced by the first real id of that name."""
    path = template
    for name, values in world.ids.items():
        path = path.replace("{" + name + "}", values[0])
    return path


# ---------------------------------------------------------------- tampered cursors


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        return None


def _encode(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def with_key(cursor: str, replace: Callable[[list[Any]], list[Any]]) -> str:
    """`cursor` with its keyset position (every list of plain values inside it) rewritten by
    `replace` and encoded again the way it came: a valid-looking cursor with altered content. An
    opaque cursor (no JSON inside) gets one character in its middle changed instead."""

    def rewrite(node: Any) -> Any:
        if isinstance(node, list) and all(not isinstance(v, dict | list) for v in node):
            return replace(node)
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        if isinstance(node, dict):
            return {k: rewrite(v) for k, v in node.items()}
        return node

    document = _decode(cursor)
    if document is None:
        middle = len(cursor) // 2
        return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    return _encode(rewrite(document))


TAMPERS: dict[str, Callable[[str, str], str]] = {  # name -> (the route's real cursor, another route's) -> cursor
    "lone-surrogate": lambda own, _: with_key(own, lambda key: ["\ud800" for _ in key]),
    "nul": lambda own, _: with_key(own, lambda key: ["a\u0000b" for _ in key]),
    "extra-part": lambda own, _: with_key(own, lambda key: [*key, key[-1] if key else "x"]),
    "operator-object": lambda own, _: with_key(own, lambda key: [{"$gt": ""} for _ in key]),
    "number-not-text": lambda own, _: with_key(own, lambda key: [10**30 for _ in key]),
    "truncated": lambda own, _: own[: len(own) // 2],
    "from-another-route": lambda _, other: other,
}
