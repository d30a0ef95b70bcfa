"""The local API Gateway over real HTTP: routing, CORS, the authorizer and its cache, error shapes.

Route-wide checks are parametrized over template.yaml, so routes added later are covered too.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest

from hrms_tools.local.invoker import Container
from hrms_tools.local.template import Route, Template
from tests.conftest import ROOT, bearer

TEMPLATE = Template.load(ROOT / "template.yaml")
PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem document with our fixed set of members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["type"].startswith("https://hrms.dev/problems/")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    assert "Traceback" not in response.text
    return body


def concrete_path(route: Route) -> str:
    """The route's path with every parameter replaced by a fresh UUID."""
    path = route.path
    for name in route.pattern.groupindex:
        path = path.replace("{" + name + "}", str(uuid.uuid4())).replace("{" + name + "+}", str(uuid.uuid4()))
    return path


def new_tenant_body(**extra: Any) -> dict[str, Any]:
    slug = f"gw-{secrets.token_hex(5)}"
    return {"name": f"Gateway {slug}", "slug": slug, "adminEmail": f"admin@{slug}.example.com", **extra}


@pytest.fixture
def invoked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Logical ids of every function the gateway invokes during the test, in order (not the queue workers the
    runtime's pollers invoke meanwhile with SQS batches: the Notifier, the export worker...)."""
    calls: list[str] = []
    original = Container.invoke

    def recording(self: Container, event: dict[str, Any], request_id: str | None = None) -> Any:
        if "Records" not in event:
            calls.append(self.spec.logical_id)
        return original(self, event, request_id)

    monkeypatch.setattr(Container, "invoke", recording)
    return calls


@pytest.fixture
def authorizer_calls(gateway: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Events the TOKEN authorizer received during the test (its cache starts and ends empty)."""
    assert TEMPLATE.authorizer is not None
    container = gateway.containers.get(TEMPLATE.authorizer.function_id)
    original = container.invoke
    calls: list[dict[str, Any]] = []

    def counting(event: dict[str, Any], request_id: str | None = None) -> Any:
        calls.append(event)
        return original(event, request_id)

    monkeypatch.setattr(container, "invoke", counting)
    gateway.auth_cache.clear()
    yield calls
    gateway.auth_cache.clear()


@pytest.fixture
def created(client: httpx.Client, platform_token: str) -> dict[str, Any]:
    """A tenant created through the API."""
    response = client.post("/tenants", json=new_tenant_body(), headers=bearer(platform_token))
    assert response.status_code == 201, response.text
    return response.json()


# ----------------------------------------------------------------------------- routing


@pytest.mark.parametrize("route", TEMPLATE.routes, ids=lambda r: f"{r.method} {r.path}")
def test_each_route_reaches_its_function(
    client: httpx.Client, platform_token: str, invoked: list[str], route: Route
) -> None:
    body = b"{}" if route.method in ("POST", "PUT", "PATCH") else None
    response = client.request(
        route.method,
        concrete_path(route),
        content=body,
        headers={**bearer(platform_token), "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    handlers = [fn for fn in invoked if fn != (TEMPLATE.authorizer and TEMPLATE.authorizer.function_id)]
    assert handlers == [route.function_id]


def test_unknown_path_is_404(client: httpx.Client, platform_token: str) -> None:
    assert_problem(client.get("/no-such-route", headers=bearer(platform_token)), 404)
    assert_problem(client.get("/tenants/a/b/c/d"), 404)


@pytest.mark.parametrize("path", sorted({r.path for r in TEMPLATE.routes}))
def test_known_path_with_another_method_is_405(client: httpx.Client, platform_token: str, path: str) -> None:
    served = {r.method for r in TEMPLATE.routes if r.path == path}
    if "ANY" in served:
        pytest.skip("ANY serves every method")
    method = next(m for m in METHODS if m not in served)
    route = next(r for r in TEMPLATE.routes if r.path == path)
    assert_problem(client.request(method, concrete_path(route), headers=bearer(platform_token)), 405)


def test_cors_preflight_answers_from_template(client: httpx.Client, authorizer_calls: list[Any]) -> None:
    cors = TEMPLATE.cors
    response = client.options(
        "/tenants",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == cors["AllowOrigin"]
    assert response.headers["access-control-allow-methods"] == cors["AllowMethods"]
    assert response.headers["access-control-allow-headers"] == cors["AllowHeaders"]
    assert response.headers["access-control-max-age"] == cors["MaxAge"]
    assert authorizer_calls == []  # AddDefaultAuthorizerToCorsPreflight: false


def test_cors_origin_header_on_ordinary_and_error_responses(client: httpx.Client) -> None:
    origin = {"Origin": "https://app.example.com"}
    assert client.get("/health", headers=origin).headers["access-control-allow-origin"] == TEMPLATE.cors["AllowOrigin"]
    denied = client.get("/tenants", headers=origin)
    assert_problem(denied, 401)
    assert denied.headers["access-control-allow-origin"] == TEMPLATE.cors["AllowOrigin"]
    assert "access-control-allow-origin" not in client.get("/health").headers


# ----------------------------------------------------------------------------- authorizer


def test_missing_token_is_401_without_calling_the_authorizer(client: httpx.Client, authorizer_calls: list[Any]) -> None:
    assert_problem(client.get("/tenants"), 401)
    assert_problem(client.get("/tenants", headers={"Authorization": ""}), 401)
    assert authorizer_calls == []


def _tampered(token: str) -> str:
    """The same signature over a payload that claims more (here: another subject)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda tokens, _: "Bearer garbage", id="garbage"),
        pytest.param(lambda tokens, good: good, id="no-bearer-scheme"),
        pytest.param(lambda tokens, good: f"Basic {good}", id="wrong-scheme"),
        pytest.param(
            lambda tokens, _: f"Bearer {tokens.issue('platform-admin', 'platform_admin', ttl_s=-60)}", id="expired"
        ),
        pytest.param(lambda tokens, good: f"Bearer {_tampered(good)}", id="tampered"),
        pytest.param(
            lambda tokens, _: (
                "Bearer "
                + jwt.encode(
                    {"sub": "platform-admin", "role": "platform_admin", "iss": "hrms", "exp": 2**31},
                    "not-the-signing-key-of-this-stack-at-all",
                    "HS256",
                )
            ),
            id="wrong-key",
        ),
        pytest.param(
            lambda tokens, _: (
                "Bearer "
                + jwt.encode(
                    {"sub": "platform-admin", "role": "platform_admin", "iss": "hrms", "exp": 2**31}, "", "none"
                )
            ),
            id="alg-none",
        ),
        pytest.param(lambda tokens, _: f"Bearer {tokens.issue('platform-admin', 'admin')}", id="bad-claims"),
    ],
)
def test_invalid_tokens_are_401(
    client: httpx.Client,
    platform_token: str,
    authorizer_calls: list[Any],
    make_header: Callable[[Any, str], str],
) -> None:
    from hrms.auth import tokens

    header = make_header(tokens, platform_token)
    assert_problem(client.get("/tenants", headers={"Authorization": header}), 401)
    assert len(authorizer_calls) == 1


def test_unknown_tenant_in_a_valid_token_is_401(client: httpx.Client, authorizer_calls: list[Any]) -> None:
    from hrms.auth import tokens

    token = tokens.issue(str(uuid.uuid4()), "admin", tid=str(uuid.uuid4()))
    assert_problem(client.get("/tenants", headers=bearer(token)), 401)


def test_tenant_admin_on_a_platform_route_is_403(
    client: httpx.Client, tenant_admin_token: str, invoked: list[str]
) -> None:
    body = assert_problem(client.get("/tenants", headers=bearer(tenant_admin_token)), 403)
    assert "ListTenantsFunction" in invoked  # the authorizer allowed the user; the function refused the role
    assert body["detail"] != "Access denied."
    create = client.post("/tenants", json=new_tenant_body(), headers=bearer(tenant_admin_token))
    assert_problem(create, 403)


def test_authorizer_result_is_cached_per_token_within_the_ttl(
    client: httpx.Client, platform_token: str, tenant_admin_token: str, authorizer_calls: list[Any]
) -> None:
    for _ in range(3):
        assert client.get("/tenants", headers=bearer(platform_token)).status_code == 200
        assert client.get("/health", headers=bearer(platform_token)).status_code == 200  # not authorized
    assert len(authorizer_calls) == 1
    assert authorizer_calls[0]["type"] == "TOKEN"
    assert authorizer_calls[0]["authorizationToken"] == f"Bearer {platform_token}"
    assert authorizer_calls[0]["methodArn"].startswith("arn:aws:execute-api:")
    client.get("/tenants", headers=bearer(tenant_admin_token))
    assert len(authorizer_calls) == 2  # another token, another call
    for _ in range(2):
        assert_problem(client.get("/tenants", headers={"Authorization": "Bearer garbage"}), 401)
    assert len(authorizer_calls) == 3  # a refusal is cached too


def test_suspended_tenant_tokens_are_denied_on_every_authorized_route(
    client: httpx.Client,
    gateway: Any,
    platform_token: str,
    tenant: Any,
    tenant_admin_token: str,
    authorizer_calls: list[Any],
    invoked: list[str],
) -> None:
    user = bearer(tenant_admin_token)
    assert client.get("/tenants", headers=user).json()["detail"] != "Access denied."  # allowed by the authorizer

    suspended = client.patch(
        f"/tenants/{tenant.tenant_id}", json={"status": "suspended"}, headers=bearer(platform_token)
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"

    # Within the TTL API Gateway still serves the cached Allow; a new evaluation denies.
    assert client.get("/tenants", headers=user).json()["detail"] != "Access denied."
    gateway.auth_cache.clear()
    invoked.clear()
    for route in TEMPLATE.routes:
        if route.authorized:
            response = client.request(route.method, concrete_path(route), headers=user, json={})
            assert assert_problem(response, 403)["detail"] == "Access denied.", route
    authorizer_id = TEMPLATE.authorizer.function_id if TEMPLATE.authorizer else None
    assert [fn for fn in invoked if fn != authorizer_id] == []  # no function ran for the suspended tenant

    reactivated = client.patch(
        f"/tenants/{tenant.tenant_id}", json={"status": "active"}, headers=bearer(platform_token)
    )
    assert reactivated.status_code == 200
    gateway.auth_cache.clear()
    assert client.get("/tenants", headers=user).json()["detail"] != "Access denied."


# ----------------------------------------------------------------------------- request errors


def test_malformed_json_is_400(client: httpx.Client, platform_token: str) -> None:
    headers = {**bearer(platform_token), "Content-Type": "application/json"}
    assert_problem(client.post("/tenants", content=b'{"name": "Acme",', headers=headers), 400)
    assert_problem(client.put(f"/tenants/{uuid.uuid4()}/features", content=b"{nope", headers=headers), 400)


def test_schema_violation_is_422_with_one_error_per_field(client: httpx.Client, platform_token: str) -> None:
    response = client.post(
        "/tenants",
        json={"name": "", "slug": "Not A Slug!", "adminEmail": "not-an-email", "unexpected": 1},
        headers=bearer(platform_token),
    )
    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert {"body.name", "body.slug", "body.adminEmail", "body.unexpected"} <= fields, body["errors"]
    for error in body["errors"]:
        assert set(error) == {"field", "type", "message"}


def test_nul_characters_are_422_not_a_database_error(client: httpx.Client, platform_token: str) -> None:
    body = assert_problem(
        client.post("/tenants", json=new_tenant_body(name="Nul\x00Corp"), headers=bearer(platform_token)), 422
    )
    assert [error["field"] for error in body["errors"]] == ["body.name"]
    query = assert_problem(client.get("/tenants?cursor=a%00b", headers=bearer(platform_token)), 422)
    assert [error["field"] for error in query["errors"]] == ["query.cursor"]


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "status=deleted"])
def test_bad_query_parameters_are_422(client: httpx.Client, platform_token: str, query: str) -> None:
    body = assert_problem(client.get(f"/tenants?{query}", headers=bearer(platform_token)), 422)
    assert body["errors"][0]["field"].startswith("query.")


def test_duplicate_slug_is_409(client: httpx.Client, platform_token: str) -> None:
    first = new_tenant_body()
    assert client.post("/tenants", json=first, headers=bearer(platform_token)).status_code == 201
    again = {**new_tenant_body(), "slug": first["slug"]}
    assert_problem(client.post("/tenants", json=again, headers=bearer(platform_token)), 409)


def test_body_over_the_function_limit_is_413(client: httpx.Client, platform_token: str) -> None:
    from hrms.config import settings

    body = json.dumps(new_tenant_body(description="x" * settings().max_body_bytes))
    response = client.post(
        "/tenants", content=body, headers={**bearer(platform_token), "Content-Type": "application/json"}
    )
    assert_problem(response, 413)


def test_body_over_the_api_gateway_limit_is_413(client: httpx.Client, platform_token: str) -> None:
    from hrms_tools.local.gateway import MAX_PAYLOAD_BYTES

    response = client.post(
        "/tenants",
        content=b"x" * (MAX_PAYLOAD_BYTES + 1),
        headers={**bearer(platform_token), "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_unknown_or_malformed_tenant_id_is_404(client: httpx.Client, platform_token: str) -> None:
    for path in (f"/tenants/{uuid.uuid4()}", "/tenants/not-a-uuid", f"/tenants/{uuid.uuid4()}/features"):
        assert_problem(client.get(path, headers=bearer(platform_token)), 404)
    missing = client.patch(f"/tenants/{uuid.uuid4()}", json={"name": "x"}, headers=bearer(platform_token))
    assert_problem(missing, 404)


# ----------------------------------------------------------------------------- happy paths


def _find(client: httpx.Client, token: str, tenant_id: str, **query: str) -> dict[str, Any] | None:
    cursor: str | None = None
    while True:
        params = {**query, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = client.get("/tenants", params=params, headers=bearer(token))
        assert page.status_code == 200, page.text
        body = page.json()
        found = next((item for item in body["items"] if item["tenantId"] == tenant_id), None)
        if found or not body["nextCursor"]:
            return found
        cursor = body["nextCursor"]


def test_tenant_lifecycle(client: httpx.Client, platform_token: str) -> None:
    auth = bearer(platform_token)
    request = new_tenant_body(
        description="Full lifecycle", settings={"country": "GB", "currency": "GBP", "timezone": "Europe/London"}
    )
    created = client.post("/tenants", json=request, headers=auth)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/json"
    new = created.json()
    assert set(new) == {"tenantId", "schemaName", "slug", "status", "adminEmail", "adminTemporaryPassword"}
    assert new["slug"] == request["slug"] and new["status"] == "active"
    assert new["schemaName"].startswith("tenant_")
    tenant_id = new["tenantId"]

    listed = _find(client, platform_token, tenant_id)
    assert listed is not None
    assert {"tenantId", "name", "slug", "status", "schemaName", "createdAt", "employeeCount", "lastActivityAt"} <= set(
        listed
    )
    assert _find(client, platform_token, tenant_id, status="suspended") is None

    detail = client.get(f"/tenants/{tenant_id}", headers=auth)
    assert detail.status_code == 200
    got = detail.json()
    assert got["settings"]["currency"] == "GBP"
    assert got["description"] == "Full lifecycle"
    assert got["schemaVersion"] >= 1

    patched = client.patch(f"/tenants/{tenant_id}", json={"name": "Renamed", "status": "suspended"}, headers=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Renamed" and patched.json()["status"] == "suspended"
    assert _find(client, platform_token, tenant_id, status="suspended") is not None
    assert _find(client, platform_token, tenant_id, status="active") is None
    snake = client.patch(f"/tenants/{tenant_id}", json={"status": "active", "description": None}, headers=auth)
    assert snake.status_code == 200 and snake.json()["status"] == "active"

    features_url = f"/tenants/{tenant_id}/features"
    assert client.get(features_url, headers=auth).json() == {"features": {}}
    put = client.put(features_url, json={"features": {"payroll": True, "appraisals": False}}, headers=auth)
    assert put.status_code == 200, put.text
    assert put.json() == {"features": {"payroll": True, "appraisals": False}}
    replaced = client.put(features_url, json={"features": {"documents": True}}, headers=auth)
    assert replaced.json() == {"features": {"documents": True}}
    assert client.get(features_url, headers=auth).json() == {"features": {"documents": True}}
    assert_problem(client.put(features_url, json={"features": {"bad name!": True}}, headers=auth), 422)


def test_post_with_idempotency_key_replays_the_first_response(client: httpx.Client, platform_token: str) -> None:
    headers = {**bearer(platform_token), "Idempotency-Key": f"gw-{uuid.uuid4()}"}
    body = new_tenant_body()
    first = client.post("/tenants", json=body, headers=headers)
    assert first.status_code == 201, first.text
    replay = client.post("/tenants", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.json() == {**first.json(), "adminTemporaryPassword": None, "temporaryPasswordReplayed": True}
    assert replay.headers["idempotent-replayed"] == "true"
    assert_problem(client.post("/tenants", json=new_tenant_body(), headers=headers), 422)  # same key, other body


def test_health_reports_every_store(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"postgres", "mongo", "redis", "s3"}
    for check in body["checks"].values():
        assert check["ok"] is True
        assert isinstance(check["latencyMs"], int | float) and check["latencyMs"] >= 0
        assert isinstance(check["detail"], str)


def test_openapi_lists_every_template_route(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    operation_ids = []
    for route in TEMPLATE.routes:
        operation = doc["paths"][route.path][route.method.lower()]
        operation_ids.append(operation["operationId"])
        assert ("security" in operation) == route.authorized, route
        if route.authorized:
            assert {"401", "403"} <= set(operation["responses"])
    assert len(operation_ids) == len(set(operation_ids))
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_is_html(client: httpx.Client) -> None:
    """GetApiDocsFunction's page: Swagger UI's script and styles inline, over the served document."""
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle(" in response.text and "<script src=" not in response.text
    assert '"operationId": "CreateTenant"' in response.text


def test_the_contract_is_served_by_functions_like_any_route(client: httpx.Client, gateway: Any) -> None:
    """No special path in the gateway: /openapi.json and /docs are template routes to their functions."""
    from hrms import openapi

    assert {(r.method, r.path, r.function_id) for r in TEMPLATE.routes} >= {
        ("GET", "/openapi.json", "GetOpenApiDocumentFunction"),
        ("GET", "/docs", "GetApiDocsFunction"),
    }
    assert client.get("/openapi.json").json() == openapi.document()
    assert client.post("/openapi.json").status_code == 405


def test_a_path_parameter_that_decodes_to_a_newline_is_authorized_like_any_other(
    client: httpx.Client, tenant_admin_token: str
) -> None:
    # The authorizer's policy allows `.../GET/*`; a wildcard matches every character, a newline too.
    response = client.get("/approval-workflows/%0Aleave", headers=bearer(tenant_admin_token))
    assert response.status_code < 500 and response.json()["detail"] != "Access denied.", response.text
    assert response.headers["content-type"].startswith("application/problem+json")  # the function answered
