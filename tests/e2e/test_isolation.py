"""Tenant isolation for EVERY route of template.yaml: tenant A's admin uses tenant B's ids and filters.

Routes, path parameters and query parameters are discovered from the template and the served
OpenAPI document, and B's ids are every uuid in B's schema, so routes and tables added later are
covered without editing this file. A must always get a 404 (or 403 / 4xx), never B's data, and
nothing in B may change.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import pytest
from psycopg import sql

from hrms.auth import tokens
from hrms.db.postgres import transaction
from tests.conftest import bearer

MARKER = "ZZ-BETA-SECRET"
_PARAM = re.compile(r"\{(\w+)\+?\}")


def _make_usable(tenant: Any) -> str:
    """Clear the admin's temporary-password flag and return an admin token for the tenant."""
    with transaction() as conn:
        users = sql.Identifier(tenant.schema_name, "users")
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(users))
        admin = conn.execute(sql.SQL("SELECT id FROM {} WHERE role = 'admin'").format(users)).fetchone()
    return tokens.issue(str(admin["id"]), "admin", tid=str(tenant.tenant_id))


def _populate(tenant: Any) -> None:
    """Give B one row of everything, each text carrying the marker."""
    schema = tenant.schema_name

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema, table)

    with transaction() as conn:
        dept = conn.execute(
            sql.SQL("INSERT INTO {} (name, code) VALUES (%s, %s) RETURNING id").format(t("departments")),
            (f"{MARKER} dept", "ZZB"),
        ).fetchone()["id"]
        desig = conn.execute(
            sql.SQL("INSERT INTO {} (title, department_id) VALUES (%s, %s) RETURNING id").format(t("designations")),
            (f"{MARKER} title", dept),
        ).fetchone()["id"]
        emp = conn.execute(
            sql.SQL(
                "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, designation_id,"
                " date_of_joining) VALUES ('ZZB-1', %s, %s, 'Beta', %s, %s, '2024-01-01') RETURNING id"
            ).format(t("employees")),
            (f"{MARKER.lower()}@beta.example.com", MARKER, dept, desig),
        ).fetchone()["id"]
        conn.execute(
            sql.SQL("INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, 'x', 'employee', %s)").format(
                t("users")
            ),
            (f"user-{MARKER.lower()}@beta.example.com", emp),
        )
        conn.execute(sql.SQL("INSERT INTO {} (date, name) VALUES ('2024-12-25', %s)").format(t("holidays")), (MARKER,))
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (actor_id, actor_role, action, entity_type, entity_id)"
                " VALUES ('x', 'admin', %s, 'x', %s)"
            ).format(t("audit_logs")),
            (MARKER, str(emp)),
        )


def _ids(tenant: Any) -> list[str]:
    """Every uuid `id` (and uuid foreign key value) in the tenant's schema."""
    found: set[str] = set()
    with transaction() as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND data_type = 'uuid'",
            (tenant.schema_name,),
        ).fetchall()
        for col in columns:
            rows = conn.execute(
                sql.SQL("SELECT DISTINCT {} AS v FROM {} WHERE {} IS NOT NULL").format(
                    sql.Identifier(col["column_name"]),
                    sql.Identifier(tenant.schema_name, col["table_name"]),
                    sql.Identifier(col["column_name"]),
                )
            ).fetchall()
            found |= {str(r["v"]) for r in rows}
    return sorted(found | {str(tenant.tenant_id)})


def _fingerprint(tenant: Any) -> str:
    """A checksum of every row of every table in the tenant's schema."""
    digest = hashlib.sha256()
    with transaction() as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
            (tenant.schema_name,),
        ).fetchall()
        for table in tables:
            ident = sql.Identifier(tenant.schema_name, table["table_name"])
            rows = conn.execute(sql.SQL("SELECT t::text AS r FROM {} t ORDER BY 1").format(ident)).fetchall()
            digest.update(table["table_name"].encode())
            for row in rows:
                digest.update(row["r"].encode())
    return digest.hexdigest()


@pytest.fixture
def two_tenants(stack, platform_actor):
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    suffix = uuid.uuid4().hex[:6]
    alpha = service.create_tenant(
        NewTenant(name="Alpha", slug=f"alpha-{suffix}", admin_email="a@alpha.example.com"), platform_actor
    )
    beta = service.create_tenant(
        NewTenant(name="Beta", slug=f"beta-{suffix}", admin_email="b@beta.example.com"), platform_actor
    )
    _populate(beta)
    return alpha, _make_usable(alpha), beta


def _query_params(openapi: dict[str, Any], path: str, method: str) -> list[str]:
    operation = openapi["paths"].get(path, {}).get(method.lower(), {})
    return [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]


def test_tenant_a_never_sees_or_touches_tenant_b(client, gateway, two_tenants):
    _alpha, alpha_token, beta = two_tenants
    beta_ids = _ids(beta)
    before = _fingerprint(beta)
    openapi = client.get("/openapi.json").json()
    secrets = [MARKER.lower(), *beta_ids, beta.schema_name, beta.slug]
    checked = 0
    for route in gateway.template.routes:
        params = _PARAM.findall(route.path)
        body = {} if route.method in ("POST", "PUT", "PATCH") else None
        if params:
            for beta_id in beta_ids:
                path = _PARAM.sub(beta_id, route.path)
                response = client.request(route.method, path, headers=bearer(alpha_token), json=body)
                checked += 1
                text = response.text.lower()
                assert response.status_code < 500, f"{route.method} {path}: {response.status_code} {response.text}"
                assert not any(s in text for s in secrets), f"{route.method} {path} leaked tenant B data: {text}"
                if route.method == "GET":
                    assert response.status_code in (403, 404), f"{route.method} {path}: {response.status_code}"
        else:
            query = {
                name: beta_ids[0]
                for name in _query_params(openapi, route.path, route.method)
                if name.lower().endswith("id")
            }
            response = client.request(route.method, route.path, headers=bearer(alpha_token), params=query, json=body)
            checked += 1
            text = response.text.lower()
            assert response.status_code < 500, f"{route.method} {route.path}: {response.status_code} {response.text}"
            assert not any(s in text for s in secrets), f"{route.method} {route.path} leaked tenant B data: {text}"
    assert checked > len(gateway.template.routes)
    assert _fingerprint(beta) == before, "tenant B's data changed"
