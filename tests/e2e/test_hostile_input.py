"""Hostile input through the local gateway (issue #14): every reproduction answers a deliberate 4xx,
as problem+json, and leaves nothing written.

Each test is one reproduction of the issue's "Reproduced today" list (the negative net pay, the
component-code case and the weekend-day items have their own tests): bodies nested 1,000 deep or
holding a 5,000-digit integer, bodies that are not JSON, NaN/Infinity in the free-form MongoDB
documents, retried creates, tampered pagination cursors on every list route, `null` for a
non-nullable PATCH field, an approval without a body and a URL past the gateway's limit.
The expectations are the issue's, written by hand; the fuzzer (test_fuzz.py) sweeps the rest.
"""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hrms.auth.passwords import hash_password
from hrms.db.mongo import database
from tests.conftest import bearer
from tests.e2e.hostile_world import FORM_FIELDS, PLATFORM_PREFIXES, TAMPERS, Seeded, path_of, seed, with_key
from tests.e2e.http_world import Org, usable

PROBLEM = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail"}
DEPTH = 1_000
DIGITS = 5_000
# API Gateway's longest URL (a regional API: 10,240 characters; edge-optimized: 8,192), and the
# longest request line of the local HTTP server (64 KiB).
URL_LENGTHS = [10_300, 70_000]


# ---------------------------------------------------------------- helpers


def problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """The response is one of `statuses`, as application/problem+json with the standard members."""
    assert response.status_code in statuses, f"{response.status_code} {response.text[:500]}"
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == PROBLEM, f"{response.status_code} {media_type!r}: {response.text[:500]}"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_MEMBERS, body
    assert body["status"] == response.status_code, body
    assert all(isinstance(body[member], str) and body[member] for member in ("type", "title", "detail")), body
    return body


def fields_of(body: dict[str, Any]) -> set[str]:
    return {str(error.get("field")) for error in body.get("errors") or []}


def raw(
    org: Org, method: str, path: str, content: str | bytes, content_type: str = "application/json", **kw: Any
) -> httpx.Response:
    """A request with a body sent exactly as given (httpx's `json=` could not send NaN or deep nesting)."""
    headers = {**bearer(org.admin), "Content-Type": content_type, **kw.pop("headers", {})}
    return org.client.request(method, path, content=content, headers=headers, **kw)


def count(org: Org, table: str) -> int:
    return int(org.sql("SELECT count(*) AS n FROM {}", table)[0]["n"])


def mongo_docs(org: Org, collection: str) -> list[dict[str, Any]]:
    return list(database()[collection].find({"tenantId": str(org.tenant.tenant_id)}, sort=[("_id", 1)]))


def nested(depth: int, leaf: str = "1") -> str:
    """JSON text: objects and arrays alternately nested `depth` deep around `leaf`."""
    opening = "".join('{"a":' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return opening + leaf + closing


def appraisal_form(org: Org) -> str:
    body = {"name": "Annual", "cycle": "2025", "fields": FORM_FIELDS}
    response = org.call("POST", "/appraisal-forms", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["formId"])


def settings_version(org: Org) -> int:
    response = org.call("GET", "/settings")
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


# ---------------------------------------------------------------- 1. the body parser: depth and numbers


def _deep_bodies(org: Org) -> list[tuple[str, str, str, bool]]:
    """(method, path, body, with a token) whose JSON is nested DEPTH deep somewhere."""
    deep = nested(DEPTH)
    login = f'{{"tenantSlug": "{org.tenant.slug}", "email": "{org.tenant.admin_email}", "password": {deep}}}'
    return [
        ("POST", "/auth/login", deep, False),
        ("POST", "/auth/login", login, False),
        ("POST", "/departments", deep, True),
        ("POST", "/departments", f'{{"name": {deep}, "code": "DEEP"}}', True),
        ("PUT", "/settings", f'{{"settings": {{"deep": {deep}}}, "expectedVersion": 0}}', True),
        ("PATCH", f"/employees/{org.employee}", f'{{"firstName": {deep}}}', True),
        (
            "POST",
            "/appraisals",
            f'{{"formId": "{uuid.uuid4()}", "employeeId": "{org.employee}", "responses": {deep}}}',
            True,
        ),
    ]


def test_json_nested_a_thousand_deep_is_a_400_on_every_route_tried(org: Org) -> None:
    departments, settings = count(org, "departments"), mongo_docs(org, "TenantSettings")
    for method, path, body, authenticated in _deep_bodies(org):
        headers = bearer(org.admin) if authenticated else {}
        response = org.client.request(
            method, path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        problem(response, 400)
    assert count(org, "departments") == departments
    assert mongo_docs(org, "TenantSettings") == settings


def test_a_five_thousand_digit_integer_is_a_400_or_422(org: Org) -> None:
    huge = "9" * DIGITS
    bodies = [
        ("POST", "/auth/login", f'{{"tenantSlug": "{org.tenant.slug}", "email": "a@b.co", "password": {huge}}}', False),
        ("POST", "/auth/login", huge, False),
        ("POST", "/departments", f'{{"name": {huge}, "code": "HUGE"}}', True),
        ("POST", "/leave-types", f'{{"code": "huge", "name": "Huge", "annualQuota": {huge}}}', True),
        ("PUT", "/settings", f'{{"settings": {{"n": {huge}}}, "expectedVersion": 0}}', True),
        ("PUT", "/settings", f'{{"settings": {{}}, "expectedVersion": {huge}}}', True),
        ("PUT", "/settings", f'{{"settings": {{"n": -{huge}.5e3}}, "expectedVersion": 0}}', True),
    ]
    departments, leave_types = count(org, "departments"), count(org, "leave_types")
    for method, path, body, authenticated in bodies:
        headers = bearer(org.admin) if authenticated else {}
        response = org.client.request(
            method, path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        problem(response, 400, 422)
    assert (count(org, "departments"), count(org, "leave_types")) == (departments, leave_types)
    assert mongo_docs(org, "TenantSettings") == []


# ---------------------------------------------------------------- 2. content types


NOT_JSON = [
    ("text/plain", '{"name": "Finance", "code": "FIN"}'),
    ("text/plain; charset=utf-8", '{"name": "Finance", "code": "FIN"}'),
    ("application/xml", "<department><name>Finance</name><code>FIN</code></department>"),
    ("text/html", "<p>Finance</p>"),
    ("application/x-www-form-urlencoded", "name=Finance&code=FIN"),
]


@pytest.mark.parametrize(("content_type", "body"), NOT_JSON, ids=[c for c, _ in NOT_JSON])
def test_a_body_that_is_not_json_is_a_415(org: Org, content_type: str, body: str) -> None:
    departments = count(org, "departments")
    problem(raw(org, "POST", "/departments", body, content_type), 415)
    problem(raw(org, "PATCH", f"/departments/{org.refs['departmentId']}", body, content_type), 415)
    assert count(org, "departments") == departments
    assert org.call("GET", f"/departments/{org.refs['departmentId']}").json()["name"] == "Eng"
    login = org.client.post("/auth/login", content=body, headers={"Content-Type": content_type})
    problem(login, 415)


@pytest.mark.parametrize(
    "content_type", ["application/vnd.api+json", "application/merge-patch+json", "application/json; charset=utf-8"]
)
def test_json_media_types_are_read_as_json(org: Org, content_type: str) -> None:
    code = secrets.token_hex(3).upper()
    created = raw(org, "POST", "/departments", json.dumps({"name": f"Dept {code}", "code": code}), content_type)
    assert created.status_code == 201, created.text
    department = created.json()["departmentId"]
    patched = raw(org, "PATCH", f"/departments/{department}", json.dumps({"name": "Renamed"}), content_type)
    assert patched.status_code == 200, patched.text
    assert org.call("GET", f"/departments/{department}").json()["name"] == "Renamed"


# ---------------------------------------------------------------- 3. NaN / Infinity in the MongoDB documents

NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


@pytest.mark.parametrize("literal", NOT_FINITE)
def test_a_non_finite_number_in_the_settings_writes_nothing_and_the_next_update_succeeds(
    org: Org, literal: str
) -> None:
    version = settings_version(org)
    before = (mongo_docs(org, "TenantSettings"), mongo_docs(org, "SettingsAudit"), count(org, "audit_logs"))

    body = f'{{"settings": {{"currency": "INR", "ratio": {literal}}}, "expectedVersion": {version}}}'
    problem(raw(org, "PUT", "/settings", body), 400, 422)
    nested_body = f'{{"settings": {{"payroll": {{"rates": [1, {literal}]}}}}, "expectedVersion": {version}}}'
    problem(raw(org, "PUT", "/settings", nested_body), 400, 422)

    after = (mongo_docs(org, "TenantSettings"), mongo_docs(org, "SettingsAudit"), count(org, "audit_logs"))
    assert after == before
    assert settings_version(org) == version
    updated = org.call("PUT", "/settings", json={"settings": {"currency": "INR"}, "expectedVersion": version})
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == version + 1


@pytest.mark.parametrize("literal", NOT_FINITE)
def test_a_non_finite_number_in_an_appraisal_writes_nothing_even_when_retried(org: Org, literal: str) -> None:
    form = appraisal_form(org)
    before = (mongo_docs(org, "Appraisal"), count(org, "audit_logs"))
    body = (
        f'{{"formId": "{form}", "employeeId": "{org.employee}", "responses": {{"summary": "ok", "score": {literal}}}}}'
    )
    key = {"Idempotency-Key": f"nan-{uuid.uuid4().hex}"}

    first = raw(org, "POST", "/appraisals", body, headers=key)
    problem(first, 400, 422)
    retried = raw(org, "POST", "/appraisals", body, headers=key)
    problem(retried, first.status_code)

    assert (mongo_docs(org, "Appraisal"), count(org, "audit_logs")) == before
    assert org.call("GET", "/appraisals", params={"employeeId": org.employee}).json()["items"] == []


def test_a_retried_appraisal_with_the_same_idempotency_key_is_created_once(org: Org) -> None:
    form = appraisal_form(org)
    body = {"formId": form, "employeeId": org.employee, "responses": {"summary": "A good year", "score": 4}}
    headers = {**bearer(org.admin), "Idempotency-Key": f"appraisal-{uuid.uuid4().hex}"}

    first = org.client.post("/appraisals", json=body, headers=headers)
    assert first.status_code == 201, first.text
    retried = org.client.post("/appraisals", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.headers.get("idempotent-replayed") == "true"
    assert retried.json()["appraisalId"] == first.json()["appraisalId"]

    listed = org.call("GET", "/appraisals", params={"employeeId": org.employee}).json()["items"]
    assert [a["appraisalId"] for a in listed] == [first.json()["appraisalId"]]
    assert len(mongo_docs(org, "Appraisal")) == 1


# ---------------------------------------------------------------- 4. tampered cursors, on every list route


@pytest.fixture(scope="module")
def world(gateway: Any, platform_actor: Any, platform_token: str) -> Iterator[Seeded]:
    """One tenant for the module, with two or more of everything listed (so every list has a cursor)."""
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = f"hostile-{secrets.token_hex(4)}"
    tenant = service.create_tenant(
        NewTenant(name="Hostile input", slug=slug, admin_email=f"admin@{slug}.example.com"), platform_actor
    )
    usable(tenant, gateway)
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        yield seed(Org(http, tenant), platform_token)


@pytest.fixture(scope="module")
def list_routes(world: Seeded) -> list[str]:
    """Every GET of the served OpenAPI document that takes a `cursor`, with real path ids."""
    document = world.org.client.get("/openapi.json").json()
    routes = [
        path
        for path, operations in document["paths"].items()
        if any(p["name"] == "cursor" and p["in"] == "query" for p in operations.get("get", {}).get("parameters", []))
    ]
    assert {"/audit-logs", "/users", "/tenants", "/leave-types", "/salary-structures"} <= set(routes)
    assert "/payroll/runs/{payrollRunId}/records" in routes
    return routes


def _headers(world: Seeded, route: str) -> dict[str, str]:
    return world.platform if route.startswith(PLATFORM_PREFIXES) else bearer(world.org.admin)


def _get(world: Seeded, route: str, **params: Any) -> httpx.Response:
    return world.org.client.get(path_of(route, world), params=params, headers=_headers(world, route))


@pytest.fixture(scope="module")
def real_cursors(world: Seeded, list_routes: list[str]) -> dict[str, str]:
    """A genuine second-page cursor of every list route."""
    cursors = {}
    for route in list_routes:
        page = _get(world, route, limit=1)
        assert page.status_code == 200, f"{route}: {page.text}"
        cursor = page.json().get("nextCursor")
        assert cursor, f"{route} has no second page: seed more of it (tests/e2e/seeding.py)"
        cursors[route] = str(cursor)
    return cursors


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_a_tampered_cursor_is_a_400_on_every_list_route(
    world: Seeded, list_routes: list[str], real_cursors: dict[str, str], tamper: str
) -> None:
    failures = []
    for index, route in enumerate(list_routes):
        other = real_cursors[list_routes[(index + 1) % len(list_routes)]]
        cursor = TAMPERS[tamper](real_cursors[route], other)
        response = _get(world, route, limit=1, cursor=cursor)
        media_type = response.headers.get("content-type", "").split(";")[0]
        if response.status_code != 400 or media_type != PROBLEM:
            failures.append(f"GET {route} -> {response.status_code} {response.text[:120]}")
    assert not failures, f"cursor {tamper!r} not refused with 400:\n" + "\n".join(failures)


@pytest.mark.parametrize("number", ["9" * 20, str(2**63), "-1", "1e3"])
def test_an_audit_log_cursor_past_bigint_is_a_400(world: Seeded, real_cursors: dict[str, str], number: str) -> None:
    """The audit log pages by its bigint id: a position no bigint holds is a 400, not an overflow."""
    cursor = with_key(real_cursors["/audit-logs"], lambda key: [number for _ in key])
    problem(_get(world, "/audit-logs", limit=1, cursor=cursor), 400)


def test_a_genuine_cursor_still_pages(world: Seeded, list_routes: list[str], real_cursors: dict[str, str]) -> None:
    for route in list_routes:
        response = _get(world, route, limit=1, cursor=real_cursors[route])
        assert response.status_code == 200, f"{route}: {response.text}"


# ---------------------------------------------------------------- 5. null in a PATCH


@pytest.mark.parametrize("field", ["status", "role"])
def test_null_for_a_non_nullable_patch_field_is_a_422_naming_it_and_never_logs_a_hash(
    org: Org, field: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    password_hash = hash_password("violet-harbour-lantern-97")
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    user_id = str(
        org.sql(
            "INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, %s, 'employee', %s) RETURNING id",
            "users",
            (email, password_hash, org.employee),
        )[0]["id"]
    )
    capfd.readouterr()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = org.call("PATCH", f"/users/{user_id}", json={field: None})
        also = org.call("PATCH", f"/users/{user_id}", json={"status": None, "role": None})

    body = problem(response, 422)
    assert f"body.{field}" in fields_of(body), body
    assert {"body.status", "body.role"} <= fields_of(problem(also, 422))
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert "Requests" in out  # the function's own output (its metrics line) is captured here
    assert "$argon2" not in logged and password_hash not in logged
    assert "Failing row" not in logged and "violates" not in logged
    for text in (response.text, also.text):
        assert "$argon2" not in text and "violates" not in text and "null value" not in text
    user = org.call("GET", f"/users/{user_id}").json()
    assert (user["status"], user["role"]) == ("active", "employee")


# ---------------------------------------------------------------- 6. optional bodies


def test_approving_a_run_needs_no_body(org: Org) -> None:
    structure = org.call(
        "POST",
        "/salary-structures",
        json={
            "name": "Plain",
            "components": [
                {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": 50}
            ],
        },
    )
    assert structure.status_code == 201, structure.text
    body = {
        "salaryStructureId": structure.json()["salaryStructureId"],
        "annualCtc": "600000",
        "effectiveFrom": "2024-01-01",
    }
    assert org.call("POST", f"/employees/{org.employee}/salaries", json=body).status_code == 201
    run = org.call("POST", "/payroll/runs", json={"month": "2025-05"})
    assert run.status_code == 201, run.text
    path = f"/payroll/runs/{run.json()['payrollRunId']}/approve"

    approved = org.client.post(path, headers=bearer(org.hr_token))  # no body, no Content-Type
    assert approved.status_code != 422, approved.text
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"


# ---------------------------------------------------------------- 7. the gateway's own answers


def _get_long(org: Org, target: str) -> httpx.Response:
    """GET `target` over a plain HTTP connection (httpx refuses URLs over 64 KiB before sending them)."""
    connection = http.client.HTTPConnection(org.client.base_url.host, org.client.base_url.port, timeout=30)
    try:
        connection.request("GET", target, headers=bearer(org.admin))
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        connection.close()


@pytest.mark.parametrize("length", URL_LENGTHS)
def test_a_url_past_the_gateway_limit_is_a_414_problem(org: Org, length: int) -> None:
    path = "/employees?q="
    problem(_get_long(org, path + "a" * (length - len(path))), 414)
    problem(_get_long(org, "/" + "x" * length), 414)


def test_every_gateway_error_is_a_problem(org: Org) -> None:
    problem(org.client.get("/no-such-route"), 404)
    problem(org.client.put("/health"), 405)
    problem(org.client.get("/employees"), 401)
    problem(org.client.get("/employees", headers=bearer("not.a.token")), 401)
    problem(org.client.get("/tenants", headers=bearer(org.admin)), 403)
    problem(raw(org, "POST", "/departments", '{"name": "' + "x" * (2 * 1024 * 1024) + '", "code": "BIG"}'), 413)
    problem(raw(org, "POST", "/departments", "x" * (11 * 1024 * 1024)), 413)
    problem(raw(org, "POST", "/departments", '{"name": "Finance", "code": '), 400)


def test_invalid_utf8_is_read_as_api_gateway_reads_it(org: Org) -> None:
    """API Gateway hands a text body to the function decoded, invalid UTF-8 bytes as U+FFFD."""
    created = raw(org, "POST", "/departments", b'{"name": "Fin\xff\xfeance", "code": "FIN"}')
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Fin\ufffd\ufffdance"
