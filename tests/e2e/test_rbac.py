"""Role x route matrix through the local gateway, for every route of template.yaml.

Who may call a route follows from the function's declared roles/permission and the tenant's
default permission sets; a few business-critical cells are also pinned explicitly below so a
wrong default cannot slip through unnoticed.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from psycopg import sql

from hrms.auth import tokens
from hrms.auth.permissions import scope_of
from hrms.db.postgres import transaction
from hrms.tenancy import PLATFORM_ADMIN, TENANT_ROLES
from hrms.tenants.defaults import PERMISSIONS
from tests.conftest import bearer

_PARAM = re.compile(r"\{(\w+)\+?\}")
ALL_ROLES = (*TENANT_ROLES, PLATFORM_ADMIN)

PINNED: dict[tuple[str, str], set[str]] = {
    ("POST", "/tenants"): {PLATFORM_ADMIN},
    ("GET", "/tenants"): {PLATFORM_ADMIN},
    ("POST", "/users"): {"admin"},
    ("PATCH", "/users/{userId}"): {"admin"},
    ("PUT", "/roles/{role}"): {"admin"},
    ("GET", "/audit-logs"): {"admin", "hr_manager"},
    ("GET", "/dashboards/executive"): {"admin", "hr_manager"},
    ("GET", "/me"): set(TENANT_ROLES),
    ("POST", "/auth/password"): set(TENANT_ROLES),
    ("POST", "/payroll/runs"): {"admin", "hr_manager"},
    ("POST", "/payroll/runs/{payrollRunId}/approve"): {"admin", "hr_manager"},
    ("GET", "/employees/{employeeId}/salaries"): {"admin", "hr_manager"},
}


def _allowed_roles(app: Any) -> set[str]:
    if app.public:
        return set(ALL_ROLES)
    roles = set(app.roles) if app.roles else set(ALL_ROLES)
    if app.permission:
        roles = {r for r in roles if r in PERMISSIONS and scope_of(PERMISSIONS[r], app.permission) is not None}
    return roles


@pytest.fixture
def role_tokens(tenant) -> dict[str, str]:
    with transaction() as conn:
        users = sql.Identifier(tenant.schema_name, "users")
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(users))
        issued = {}
        for role in TENANT_ROLES:
            row = conn.execute(
                sql.SQL("INSERT INTO {} (email, password_hash, role) VALUES (%s, 'x', %s) RETURNING id").format(users),
                (f"{role}-{uuid.uuid4().hex[:6]}@rbac.example.com", role),
            ).fetchone()
            issued[role] = tokens.issue(str(row["id"]), role, tid=str(tenant.tenant_id))
    issued[PLATFORM_ADMIN] = tokens.issue("platform-admin", PLATFORM_ADMIN)
    return issued


def test_pinned_cells_match_the_declared_rules(gateway):
    routes = {(r.method, r.path): r for r in gateway.template.routes}
    for (method, path), expected in PINNED.items():
        app = gateway.containers.get(routes[(method, path)].function_id).module.app
        assert _allowed_roles(app) == expected, f"{method} {path}"


def test_every_role_gets_403_exactly_where_the_matrix_says(client, gateway, role_tokens):
    for route in gateway.template.routes:
        app = getattr(gateway.containers.get(route.function_id).module, "app", None)
        if app is None or app.public:
            continue
        allowed = _allowed_roles(app)
        path = _PARAM.sub(str(uuid.uuid4()), route.path)
        body = {} if route.method in ("POST", "PUT", "PATCH") else None
        for role in ALL_ROLES:
            response = client.request(route.method, path, headers=bearer(role_tokens[role]), json=body)
            assert response.status_code < 500, f"{role} {route.method} {path}: {response.text}"
            if role in allowed:
                assert response.status_code != 403, f"{role} should reach {route.method} {route.path}: {response.text}"
            else:
                assert response.status_code == 403, f"{role} must not reach {route.method} {route.path}"
