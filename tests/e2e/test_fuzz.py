"""Property-based fuzzing of every operation in the gateway's /openapi.json (schemathesis).

The schema is fetched from the running local gateway, which builds it from template.yaml and
each function's resolver; the test is parametrized over the template's routes (the gateway
tests check that /openapi.json lists exactly those), so a route added later is fuzzed without
editing this file. Each operation is fuzzed as the platform admin and as a tenant admin (with a
permanent password, so tenant routes get past the must-change-password gate), with both
schema-valid (positive) and schema-violating (negative) requests.

What is asserted, for every generated request:
- never a 5xx (schemathesis' `not_a_server_error`): the API must turn any input into a 4xx;
- every error is application/problem+json with type/title/status/detail/errors.
Full response-schema conformance is deliberately not checked: the per-function OpenAPI
fragments only describe the success model (Powertools adds a generic 422 without our
problem+json media type), and the gateway-level 401/403/404/413 answers are not described
per operation, so that check would flag documentation gaps rather than behaviour.

`schemathesis.pytest.from_fixture(...).parametrize()` is not used: in schemathesis 4.32.5 it
reads `request.node._nodeid`, which pytest 9 no longer has. The operation's Hypothesis strategy
(`APIOperation.as_strategy`) with `@given` is the documented alternative and gives one test item
per route.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from hrms.local.template import Route, Template
from tests.conftest import ROOT, bearer

ROUTES = Template.load(ROOT / "template.yaml").routes
PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}
# A fixed budget of generated requests per caller, spread over the routes (25 each at most, 5 at
# least), so the file stays around a minute as routes are added. HRMS_FUZZ_EXAMPLES overrides it
# for a deeper local run, e.g. HRMS_FUZZ_EXAMPLES=300.
MAX_EXAMPLES = int(os.environ.get("HRMS_FUZZ_EXAMPLES") or max(5, min(25, 800 // max(1, len(ROUTES)))))


def _tenant_admin_token(platform_actor: Any) -> str:
    """A tenant admin whose temporary password has been replaced."""
    from hrms.auth import tokens
    from hrms.auth.users import find_user_by_email
    from hrms.db.postgres import transaction
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = f"fuzz-{secrets.token_hex(4)}"
    tenant = service.create_tenant(
        NewTenant(name="Fuzzing", slug=slug, admin_email=f"admin@{slug}.example.com"), platform_actor
    )
    with transaction() as conn:
        users = sql.Identifier(tenant.schema_name, "users")
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(users))
    user = find_user_by_email(slug, tenant.admin_email)
    return tokens.issue(str(user.user_id), user.role, tid=str(user.tenant_id))


@pytest.fixture(scope="module")
def callers(platform_token: str, platform_actor: Any) -> dict[str, dict[str, str]]:
    return {"platform_admin": bearer(platform_token), "tenant_admin": bearer(_tenant_admin_token(platform_actor))}


@pytest.fixture(scope="module")
def api_schema(gateway: Any) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict({"base-url": gateway.base_url, "generation": {"database": "none"}})
    return schemathesis.openapi.from_url(f"{gateway.base_url}/openapi.json", config=config)


@pytest.mark.parametrize("who", ["platform_admin", "tenant_admin"])
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_no_operation_answers_5xx(
    api_schema: schemathesis.BaseSchema, callers: dict[str, dict[str, str]], route: Route, who: str
) -> None:
    operation = api_schema[route.path][route.method]
    headers = callers[who]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
        if response.status_code >= 400:
            assert response.headers["content-type"] == ["application/problem+json"], response.text
            assert set(response.json()) >= PROBLEM_KEYS, response.text

    fuzz()
