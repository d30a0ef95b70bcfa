"""A tenant driven through HTTP (admin, a manager and their report, tokens per role), for e2e tests."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
from psycopg import sql

from hrms.auth import tokens
from hrms.auth.users import find_user_by_email
from hrms.db.postgres import transaction
from tests.conftest import bearer

# A salary structure: basic half the CTC, HRA 40% of basic, PF 12% of basic.
STRUCTURE = {
    "name": "Standard",
    "components": [
        {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": 50},
        {"code": "hra", "name": "HRA", "kind": "earning", "calc": "percent_of_basic", "value": "40"},
        {"code": "pf", "name": "PF", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
    ],
}
GUIDE_WEEK = {"startDate": "2024-02-05", "endDate": "2024-02-09", "reason": "Personal time off"}


class Org:
    """A tenant through HTTP: admin token, a manager and their report hired 2024-01-01 (with 2024 opening
    balances), tokens per role."""

    def __init__(self, client: httpx.Client, tenant: Any) -> None:
        self.client, self.tenant = client, tenant
        admin = find_user_by_email(tenant.slug, tenant.admin_email)
        self.admin = tokens.issue(str(admin.user_id), "admin", tid=str(tenant.tenant_id))
        department = self.sql("INSERT INTO {} (name, code) VALUES ('Eng', 'ENG') RETURNING id", "departments")
        designation = self.sql("INSERT INTO {} (title) VALUES ('Engineer') RETURNING id", "designations")
        self.refs = {"departmentId": str(department[0]["id"]), "designationId": str(designation[0]["id"])}
        types = self.call("GET", "/leave-types").json()["items"]
        self.types = {t["code"]: t["leaveTypeId"] for t in types}
        self.manager = self.hire()
        self.employee = self.hire(managerId=self.manager)
        self.manager_token = self.token(self.manager, "manager")
        self.employee_token = self.token(self.employee, "employee")
        self.hr_token = self.token(None, "hr_manager")

    def sql(self, query: str, table: str, params: Any = None) -> list[dict[str, Any]]:
        with transaction() as conn:
            cursor = conn.execute(sql.SQL(query).format(sql.Identifier(self.tenant.schema_name, table)), params)
            return cursor.fetchall() if cursor.description else []

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, headers=bearer(token or self.admin), **kwargs)

    def hire(self, **fields: Any) -> str:
        body = {
            "email": f"{uuid4().hex[:10]}@example.com",
            "firstName": "Asha",
            "lastName": "Rao",
            "dateOfJoining": "2024-01-01",
            **self.refs,
            **fields,
        }
        response = self.call("POST", "/employees", json=body)
        assert response.status_code == 201, response.text
        employee_id = str(response.json()["employeeId"])
        if body["dateOfJoining"] == "2024-01-01":
            self.open_2024(employee_id)
        return employee_id

    def open_2024(self, employee_id: str) -> None:
        """2024's balances as a tenant going live would bring them from its old tool: a hire allocates only
        the current leave year, so HR sets the full 2024 quotas as opening balances (annual 18, sick 12,
        casual 6) through the adjustments route."""
        for code, days in (("annual", 18), ("sick", 12), ("casual", 6)):
            body = {"leaveTypeId": self.types[code], "year": 2024, "days": days, "reason": "Opening balance"}
            response = self.call("POST", f"/employees/{employee_id}/leave-balances/adjustments", json=body)
            assert response.status_code == 201, response.text

    def token(self, employee_id: str | None, role: str) -> str:
        row = self.sql(
            "INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, 'x', %s, %s) RETURNING id",
            "users",
            (f"{uuid4().hex[:10]}@example.com", role, employee_id),
        )
        return tokens.issue(str(row[0]["id"]), role, tid=str(self.tenant.tenant_id))

    def request(self, token: str | None = None, code: str = "annual", **fields: Any) -> httpx.Response:
        body = {"leaveTypeId": self.types[code], **GUIDE_WEEK, **fields}
        return self.call("POST", "/leaves", token or self.employee_token, json=body)

    def balance(self, code: str = "annual") -> dict[str, Any]:
        response = self.call("GET", f"/employees/{self.employee}/leave-balances", params={"year": 2024})
        assert response.status_code == 200, response.text
        return next(b for b in response.json() if b["code"] == code)


def usable(tenant: Any, gateway: Any) -> None:
    with transaction() as conn:
        users = sql.Identifier(tenant.schema_name, "users")
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(users))
    gateway.auth_cache.clear()
