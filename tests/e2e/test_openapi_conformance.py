"""Every route answers what /openapi.json says it answers (issue #18): schemathesis' response checks.

For each route of template.yaml, schemathesis generates requests from the served document (path ids
mostly real ones of a seeded tenant, `hostile_world.seed`, so that requests reach the domain) and
sends them through the local gateway as the tenant admin (the platform admin on the platform's
routes). Every response must pass `not_a_server_error`, `status_code_conformance` (no undocumented
status), `content_type_conformance` and `response_schema_conformance` (the body matches the schema
of its status: the success model, or `Problem`). After a write that was carried out, the tenant and
its admin are made usable again (`hostile_world.restore_admin`).

HRMS_CONFORMANCE_EXAMPLES sets the examples per route (default 6: about a minute in all).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hrms.auth.passwords import hash_password
from hrms.auth.users import find_user_by_email
from hrms_tools.local.template import Route, Template
from tests.conftest import ROOT, bearer
from tests.e2e.hostile_world import PLATFORM_PREFIXES, Seeded, restore_admin, seed
from tests.e2e.http_world import Org, usable

ROUTES = Template.load(ROOT / "template.yaml").routes
EXAMPLES = int(os.environ.get("HRMS_CONFORMANCE_EXAMPLES") or 6)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PASSWORD = "amber-lantern-quartz-51"


class Conformance:
    """The seeded tenant, the served document as schemathesis reads it, and a session to send with."""

    def __init__(self, world: Seeded, gateway: Any, admin_id: str, permissions: list[str]) -> None:
        self.world, self.gateway, self.admin_id, self.permissions = world, gateway, admin_id, permissions
        self.password_hash = hash_password(PASSWORD)
        self.schema = schemathesis.openapi.from_dict(world.org.client.get("/openapi.json").json())
        self.session = requests.Session()

    def headers(self, path: str) -> dict[str, str]:
        return self.world.platform if path.startswith(PLATFORM_PREFIXES) else bearer(self.world.org.admin)

    def cases(self, route: Route) -> st.SearchStrategy[Any]:
        operation = self.schema[route.path][route.method]
        fixed = self.fixed_bodies().get(f"{route.method} {route.path}")
        body = {"body": fixed} if fixed is not None else {}
        names = [part[1:-1] for part in route.path.split("/") if part.startswith("{")]
        real = {name: self.world.ids[name] for name in names if name in self.world.ids}
        if len(real) < len(names):
            return operation.as_strategy(**body)
        ids = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in real.items()})
        generated = operation.as_strategy(**body)
        return st.one_of(ids.flatmap(lambda path: operation.as_strategy(path_parameters=path, **body)), generated)

    def fixed_bodies(self) -> dict[str, Any]:
        """Bodies not left to generation: a full backup dumps every tenant of the test session (slow, and
        racing the schemas other tests drop); this tenant's schema backup exercises the same route."""
        return {"POST /admin/backups": {"kind": "schema", "tenantId": str(self.world.org.tenant.tenant_id)}}

    def restore(self) -> None:
        org = self.world.org
        restore_admin(org, self.gateway, self.admin_id, self.password_hash, self.permissions)


@pytest.fixture(scope="module")
def conformance(gateway: Any, platform_actor: Any, platform_token: str) -> Iterator[Conformance]:
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = f"conform-{secrets.token_hex(4)}"
    tenant = service.create_tenant(
        NewTenant(name="Conformance", slug=slug, admin_email=f"admin@{slug}.example.com"), platform_actor
    )
    usable(tenant, gateway)
    admin = find_user_by_email(slug, tenant.admin_email)
    assert admin is not None
    with httpx.Client(base_url=gateway.base_url, timeout=120) as http:
        org = Org(http, tenant)
        world = seed(org, platform_token)
        permissions = org.sql("SELECT permissions FROM {} WHERE role = 'admin'", "role_permissions")[0]["permissions"]
        checker = Conformance(world, gateway, str(admin.user_id), list(permissions))
        checker.restore()  # the admin on a known password (POST /auth/password may then succeed)
        yield checker
        checker.session.close()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_response_is_documented_and_matches_its_schema(conformance: Conformance, route: Route) -> None:
    @given(case=conformance.cases(route))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(
            base_url=conformance.gateway.base_url,
            session=conformance.session,
            headers=conformance.headers(route.path),
            timeout=120,
        )
        try:
            case.validate_response(response, checks=CHECKS)
        finally:
            if (response.status_code < 400 and route.method != "GET") or route.path.startswith("/auth/"):
                conformance.restore()

    check()
