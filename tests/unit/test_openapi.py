"""The OpenAPI document: committed as the code builds it, and saying what issue #18 asks of it."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from hrms import openapi
from hrms.http import api
from hrms.openapi.build import build, render, template_routes
from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"
PUBLIC = {
    ("GET", "/health"),
    ("POST", "/auth/login"),
    ("POST", "/auth/forgot-password"),
    ("POST", "/auth/reset-password"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
}
ERRORS = {"400", "401", "403", "404", "409", "413", "415", "422", "429", "503", "504"}


@functools.cache
def document() -> dict[str, Any]:
    return build(TEMPLATE)


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in document()["paths"].items() for method, op in ops.items()]


def test_the_committed_document_is_what_the_code_builds() -> None:
    assert openapi.document_text() == render(document()), "run `hrms openapi` and commit hrms/openapi/openapi.json"


def test_every_template_route_is_one_operation_named_as_in_api_md() -> None:
    routes = template_routes(TEMPLATE)
    assert sorted((m, p) for m, p, _ in operations()) == sorted((r.method, r.path) for r in routes)
    names = {(r.method, r.path): r.function_id.removesuffix("Function") for r in routes}
    for method, path, operation in operations():
        assert operation["operationId"] == names[(method, path)]
    assert document()["paths"]["/tenants"]["post"]["operationId"] == "CreateTenant"


def test_public_operations_have_no_security_and_the_others_a_bearer_token() -> None:
    for method, path, operation in operations():
        if (method, path) in PUBLIC:
            assert "security" not in operation, (method, path)
            assert ("401" in operation["responses"]) == (path == "/auth/login"), (method, path)  # a wrong password
        else:
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_every_error_is_a_problem_and_no_powertools_validation_error_is_left() -> None:
    shared = document()["components"]["responses"]
    assert "HTTPValidationError" not in document()["components"]["schemas"]
    for method, path, operation in operations():
        responses = operation["responses"]
        assert {"413", "422", "429", "504"} <= set(responses), (method, path)
        for status, answer in responses.items():
            if status in ERRORS and not (path == "/health" and status == "503"):
                answer = shared[answer["$ref"].rsplit("/", 1)[-1]] if "$ref" in answer else answer
                assert answer["content"] == {"application/problem+json": {"schema": {"$ref": PROBLEM}}}, (path, status)


PROBLEM = "#/components/schemas/Problem"


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("POST", "/tenants", {"201", "400", "401", "403", "409", "415", "422"}),
        ("POST", "/exports", {"202"}),
        ("POST", "/imports/{importId}/start", {"202", "404", "409"}),
        ("DELETE", "/departments/{departmentId}", {"204", "404", "409"}),
        ("GET", "/health", {"200", "503"}),
        ("GET", "/employees", {"200", "400"}),
        ("POST", "/auth/login", {"200", "401", "400", "415"}),
    ],
)
def test_success_and_error_statuses_are_those_the_code_answers(method: str, path: str, statuses: set[str]) -> None:
    assert statuses <= set(document()["paths"][path][method.lower()]["responses"])


def test_writes_take_an_idempotency_key_and_lists_a_cursor() -> None:
    for method, path, operation in operations():
        names = {p["name"] for p in operation.get("parameters", [])}
        assert ("Idempotency-Key" in names) == (method == "POST" and (method, path) not in PUBLIC), (method, path)
    listed = document()["paths"]["/employees"]["get"]["parameters"]
    assert {"limit", "cursor"} <= {p["name"] for p in listed}


def test_summaries_descriptions_and_tags_come_from_the_handlers() -> None:
    tags = {tag["name"] for tag in document()["tags"]}
    for method, path, operation in operations():
        assert operation["summary"] and not operation["summary"].startswith(method), (method, path)
        assert "**Who may call it:**" in operation["description"], (method, path)
        assert len(operation["tags"]) == 1 and operation["tags"][0] in tags, (method, path)
    run = document()["paths"]["/payroll/runs"]["post"]
    assert run["tags"] == ["Payroll"] and "`payroll:write`" in run["description"]
    assert "payrollRunId" in run["responses"]["409"]["description"]


def test_request_examples_match_their_schemas() -> None:
    registry = Registry().with_resource("urn:doc", Resource.from_contents(document(), DRAFT202012))
    for method, path, operation in operations():
        body = operation.get("requestBody")
        if body is None:
            continue
        media = body["content"]["application/json"]
        schema = json.loads(json.dumps(media["schema"]).replace('"#/components', '"urn:doc#/components'))
        errors = list(jsonschema.Draft202012Validator(schema, registry=registry).iter_errors(media["example"]))
        assert not errors, (method, path, [e.message for e in errors])


def test_a_route_declares_only_domain_statuses() -> None:
    with pytest.raises(ValueError, match="statuses of domain errors"):
        api(public=True, errors={418: "a teapot"})
    assert api(public=True, errors=(404, 409)).errors == {404: "", 409: ""}
