"""Helpers of the Mongo-side integration tests: tenants as `Tenant`, actors, employees linked to users."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from psycopg import sql

from hrms.db.postgres import transaction
from hrms.tenancy import Actor, Tenant


def as_tenant(created: Any) -> Tenant:
    return Tenant(created.tenant_id, created.schema_name)


def actor(tenant: Tenant, role: str = "admin", user_id: str | None = None) -> Actor:
    return Actor(user_id=user_id or str(uuid4()), role=role, tenant=tenant)


def employee_user(tenant: Tenant, role: str, manager_id: UUID | None = None) -> tuple[Actor, UUID]:
    """A new employee (optionally reporting to `manager_id`) with a user account of `role`."""

    def t(name: str) -> sql.Identifier:
        return sql.Identifier(tenant.schema_name, name)

    code = uuid4().hex[:8]
    with transaction() as conn:
        dept = conn.execute(
            sql.SQL("INSERT INTO {} (name, code) VALUES (%s, %s) RETURNING id").format(t("departments")), (code, code)
        ).fetchone()["id"]
        desig = conn.execute(
            sql.SQL("INSERT INTO {} (title) VALUES (%s) RETURNING id").format(t("designations")), (code,)
        ).fetchone()["id"]
        emp = conn.execute(
            sql.SQL(
                "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, designation_id,"
                " date_of_joining, manager_id) VALUES (%s, %s, 'Test', 'Person', %s, %s, '2024-01-01', %s) RETURNING id"
            ).format(t("employees")),
            (code, f"{code}@example.com", dept, desig, manager_id),
        ).fetchone()["id"]
        user = conn.execute(
            sql.SQL(
                "INSERT INTO {} (email, password_hash, role, employee_id, must_change_password)"
                " VALUES (%s, 'x', %s, %s, false) RETURNING id"
            ).format(t("users")),
            (f"u-{code}@example.com", role, emp),
        ).fetchone()["id"]
    return Actor(user_id=str(user), role=role, tenant=tenant), emp
