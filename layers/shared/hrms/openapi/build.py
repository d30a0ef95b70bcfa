"""The OpenAPI 3.1 document of the HTTP API, built from what the code declares (`hrms openapi`).

Nothing is written twice. The sources:
- template.yaml: every `Api` event (path, method, its function, `Authorizer: NONE` or the default
  authorizer). The function's logical id minus "Function" is the operationId (API.md's name).
- the function's module (`functions/<name>/app.py`, imported from its file as Lambda would): its
  Powertools resolver gives the parameters, the request body and the response model; its `api(...)`
  line gives who may call it (`public`, roles, the permission of `hrms.auth.policy` with what its
  scopes mean) and `errors`, the statuses its domain answers; its module docstring gives the summary
  (after `METHOD /path: `) and the description; its route's `return` gives the success status:
  `ok(...)` 200 or the literal status passed, `created` 201, `no_content` 204, `html` 200 text/html
  (a conditional expression documents both branches); the domain whose code it calls gives its tag.
- the statuses every operation of a kind answers, from the order of checks of `hrms.http.api`,
  documented once each as a shared response (`components.responses`) and referenced:

  - behind the authorizer: 401 (API Gateway's authorizer, a revoked token) and 403 (the
    authorizer's policy, a suspended tenant, a temporary password, the permission, a duty);
  - every operation: 413, 429, 504 (API Gateway's limits and throttling, the function's timeout; a
    body over the function's limit; a locked sign-in), 422 (a parameter or body that does not match
    the schema, or holds NUL) and 503 (a store is down);
  - POST, PUT, PATCH and operations with a body: 400 (malformed JSON, nested too deep, a key given
    twice) and 415 (a body that is not JSON); lists (a `cursor` parameter): 400 (a foreign cursor);
  - POST behind the authorizer (`Idempotency-Key`): 400 (a malformed key) and 409 (the first request
    with that key still running; the same key with another body is a 422);
  - every write (not GET): 409 (a concurrent change got in the way: retry; `hrms.db.postgres`);
  - operations with path parameters: 404 (no such resource, not the caller's to see, a malformed id).

Every error body is the one `Problem` schema (`hrms.http.responses.PROBLEM_SCHEMA`). The build fails,
naming the file, when a declaration cannot be read (a `return` whose status it cannot tell, a path
that differs from the template's, `public` that disagrees with the template's authorizer).
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hrms.auth import policy
from hrms.http.api import Api
from hrms.http.idempotency import MAX_KEY_LENGTH
from hrms.http.responses import PROBLEM_ERROR_SCHEMA, PROBLEM_JSON, PROBLEM_SCHEMA
from hrms.pagination import MAX_LIMIT
from hrms.tenancy import PLATFORM_ADMIN, TENANT_ROLES

TITLE = "HRMS Serverless API"
VERSION = "1.0.0"
PROBLEM_REF = "#/components/schemas/Problem"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Tags: the domain (hrms package) whose code a handler calls, in this order in the document.
TAGS: dict[str, tuple[str, str]] = {
    "health": ("Health", "Liveness of the API and its stores."),
    "openapi": ("Documentation", "This document and its Swagger UI page."),
    "auth": ("Session", "Signing in, changing one's password, who one is."),
    "tenants": ("Tenants", "The platform's tenants and their platform feature switches (platform admin)."),
    "backup": ("Backups", "Backups to S3 and restores (platform admin)."),
    "users": ("Users and roles", "User accounts and the roles' permission sets."),
    "org": ("Organisation", "Departments, designations, holidays and the organisation chart."),
    "employees": ("Employees", "Employee records and reporting lines (PAN/Aadhaar encrypted, masked)."),
    "leave": ("Leave", "Leave types, requests, decisions and balances."),
    "approvals": ("Approvals", "Approval tasks and the workflows that create them."),
    "payroll": ("Payroll", "Salary structures, salaries, payroll runs and their approval."),
    "dashboards": ("Dashboards", "The executive dashboard and each employee's."),
    "appraisals": ("Appraisals", "Appraisal forms with versioned fields, and appraisals."),
    "documents": ("Documents", "Employee documents in S3 through presigned URLs."),
    "settings": ("Settings", "Tenant settings: versioned, with history and rollback."),
    "flags": ("Feature flags", "The tenant's feature flags and their evaluation."),
    "audit": ("Audit", "Who changed what."),
    "imports": ("Imports", "Bulk imports from CSV or XLSX, all or nothing."),
    "exports": ("Exports", "Exports to CSV or XLSX, written asynchronously."),
    "payslips": ("Payslips", "Payslip PDFs of processed payroll runs, through presigned downloads."),
    "notifications": ("Notifications", "Which notification mail the caller gets (email through SES)."),
}

_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
# status -> (shared response name, its description)
SHARED: dict[int, tuple[str, str]] = {
    400: (
        "BadRequest",
        "The request cannot be read: malformed JSON, a body nested too deep or naming a key "
        "twice, a malformed Idempotency-Key, or a cursor this list did not hand out.",
    ),
    401: (
        "Unauthorized",
        "No token, or one that is invalid, expired or revoked (a password change, reset or "
        "role change revokes every earlier token).",
    ),
    403: (
        "Forbidden",
        "The caller may not do this: the authorizer's policy, a suspended tenant, a temporary "
        "password to change first, the permission the operation needs (`permission`), or a rule of the "
        "domain (`rule`, e.g. nobody decides their own request).",
    ),
    404: ("NotFound", "No such resource, or not one the caller may see (a malformed id is never found)."),
    409: (
        "Conflict",
        "The request conflicts with the current data, a concurrent change got in the way (retry), or the first "
        "request with this Idempotency-Key is still running.",
    ),
    413: ("PayloadTooLarge", "The request body is over the limit (API Gateway: 10 MB; the functions: less)."),
    415: (
        "UnsupportedMediaType",
        "A body that is not JSON: send application/json (or application/*+json) in UTF-8 (`accepted`).",
    ),
    422: (
        "ValidationFailed",
        "A parameter or body field does not match the schema (`errors` names each), or "
        "an Idempotency-Key is reused with another request.",
    ),
    429: (
        "TooManyRequests",
        "Throttled by API Gateway or the function's concurrency, or a sign-in locked "
        "after failed attempts (`Retry-After`, seconds).",
    ),
    503: ("ServiceUnavailable", "A store the operation needs is unavailable; retry shortly."),
    504: ("GatewayTimeout", "The operation took longer than API Gateway waits (29 s)."),
}
SUCCESS = {200: "OK", 201: "Created", 202: "Accepted: the work goes on asynchronously", 204: "No content"}


# ---------------------------------------------------------------- the template


class _CfnLoader(yaml.SafeLoader):
    """template.yaml with its short-form intrinsics (!Ref, !GetAtt ...) read as {"Ref": ...} values."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Route:
    """One `Api` event of the template."""

    function_id: str
    method: str
    path: str
    authorized: bool
    module_file: Path

    @property
    def operation_id(self) -> str:
        return self.function_id.removesuffix("Function")


def template_routes(template: Path) -> list[Route]:
    resources = (yaml.load(template.read_text(encoding="utf-8"), Loader=_CfnLoader) or {})["Resources"]  # noqa: S506
    default_authorizer = {
        logical_id: ((resource.get("Properties") or {}).get("Auth") or {}).get("DefaultAuthorizer")
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Api"
    }
    routes = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        module = props["Handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            spec = event["Properties"]
            api_id = (spec.get("RestApiId") or {}).get("Ref")
            authorizer = (spec.get("Auth") or {}).get("Authorizer", default_authorizer.get(api_id))
            routes.append(
                Route(
                    function_id=logical_id,
                    method=str(spec["Method"]).upper(),
                    path=str(spec["Path"]),
                    authorized=bool(authorizer) and authorizer != "NONE",
                    module_file=template.parent / props["CodeUri"] / module,
                )
            )
    return routes


# ---------------------------------------------------------------- a handler's declarations


@dataclass(frozen=True)
class Handler:
    """What one function module declares."""

    app: Api
    docstring: str
    successes: dict[int, str]  # status -> media type ("" for no content)
    domain: str


def load_handler(route: Route) -> Handler:
    source = route.module_file.read_text(encoding="utf-8")
    tree = ast.parse(source)
    name = f"hrms_openapi_{route.function_id}"
    spec = importlib.util.spec_from_file_location(name, route.module_file)
    if spec is None or spec.loader is None:
        raise ValueError(f"{route.module_file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves the handler's annotations through sys.modules
    spec.loader.exec_module(module)
    app = getattr(module, "app", None)
    if not isinstance(app, Api):
        raise ValueError(f"{route.module_file}: no `app = api(...)`")
    if app.public == route.authorized:
        raise ValueError(f"{route.module_file}: public={app.public}, but the template's authorizer says otherwise")
    function = _route_function(tree, route)
    successes: dict[int, str] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            successes.update(_successes(node.value, route))
    if not successes:
        raise ValueError(f"{route.module_file}: the route returns nothing")
    return Handler(app, ast.get_docstring(tree) or "", dict(sorted(successes.items())), _domain(tree, function, route))


def _route_function(tree: ast.Module, route: Route) -> ast.FunctionDef:
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == route.method.lower()
                and decorator.args
                and isinstance(decorator.args[0], ast.Constant)
            ):
                path = re.sub(r"<(\w+)>", r"{\1}", str(decorator.args[0].value))
                if path != route.path:
                    raise ValueError(f"{route.module_file}: routes {path}, the template says {route.path}")
                return node
    raise ValueError(f"{route.module_file}: no `@app.{route.method.lower()}(...)` route")


def _successes(value: ast.expr, route: Route) -> dict[int, str]:
    if isinstance(value, ast.IfExp):
        return {**_successes(value.body, route), **_successes(value.orelse, route)}
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        helper = value.func.id
        if helper == "created":
            return {201: "application/json"}
        if helper == "no_content":
            return {204: ""}
        if helper == "html":
            return {200: "text/html"}
        if helper == "ok":
            keywords = [k.value for k in value.keywords if k.arg == "status"]
            given = value.args[1] if len(value.args) > 1 else keywords[0] if keywords else None
            if given is None:
                return {200: "application/json"}
            if isinstance(given, ast.Constant) and isinstance(given.value, int):
                return {given.value: "application/json"}
    raise ValueError(f"{route.module_file}: cannot tell the status of `return {ast.unparse(value)}`")


def _domain(tree: ast.Module, function: ast.FunctionDef, route: Route) -> str:
    """The `hrms` package of the first name the route's body uses that comes from a tagged domain."""
    origin: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "hrms":
            parts = node.module.split(".")
            for alias in node.names:
                package = parts[1] if len(parts) > 1 else alias.name
                origin[alias.asname or alias.name] = package
    names = [n for n in ast.walk(ast.Module(body=function.body, type_ignores=[])) if isinstance(n, ast.Name)]
    for name in sorted(names, key=lambda n: (n.lineno, n.col_offset)):
        if origin.get(name.id, "") in TAGS:
            return origin[name.id]
    raise ValueError(f"{route.module_file}: calls no domain of hrms.openapi.build.TAGS")


# ---------------------------------------------------------------- the document


def build(template: Path) -> dict[str, Any]:
    """The whole document for `template` (its functions are imported from their files)."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    tags: set[str] = set()
    for route in template_routes(template):
        handler = load_handler(route)
        generated = handler.app.get_openapi_schema(title=TITLE, version=VERSION).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        for name, schema in ((generated.get("components") or {}).get("schemas") or {}).items():
            if name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
                continue  # Powertools' 422 body: ours is a Problem
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas are named {name} (the second in {route.module_file})")
        operation = generated["paths"][route.path][route.method.lower()]
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, handler, operation, schemas)
        tags.add(handler.domain)
    schemas.update(Problem=PROBLEM_SCHEMA, ProblemError=PROBLEM_ERROR_SCHEMA)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "Multi-tenant HR management API. JSON in camelCase; ids are UUIDs, dates YYYY-MM-DD, months "
                "YYYY-MM, money decimal strings. Every error is `application/problem+json` (`Problem`). Lists "
                "answer `{items, nextCursor}`: pass `nextCursor` back as `cursor` for the next page. A POST "
                "behind the authorizer takes an `Idempotency-Key`: a replay answers the first response."
            ),
        },
        "servers": [{"url": "/", "description": "This API (in AWS the stage's base URL, e.g. .../v1)"}],
        "tags": [{"name": TAGS[domain][0], "description": TAGS[domain][1]} for domain in TAGS if domain in tags],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": {
                name: {"description": description, "content": copy.deepcopy(_PROBLEM_CONTENT)}
                | ({"headers": _RETRY_AFTER} if status == 429 else {})
                for status, (name, description) in SHARED.items()
            },
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait (a locked sign-in).", "schema": {"type": "integer"}},
}


def render(document: dict[str, Any]) -> str:
    """The document as committed: stable key order, one member per line."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _operation(route: Route, handler: Handler, generated: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    app = handler.app
    summary, description = _texts(handler.docstring, route)
    operation: dict[str, Any] = {
        "tags": [TAGS[handler.domain][0]],
        "summary": summary,
        "description": f"{description}\n\n**Who may call it:** {_callers(app)}".strip(),
        "operationId": route.operation_id,
    }
    parameters = [_described(p) for p in generated.get("parameters", [])]
    if route.authorized and route.method == "POST":
        parameters.append(_IDEMPOTENCY_KEY)
    if parameters:
        operation["parameters"] = parameters
    body = generated.get("requestBody")
    if body is not None:
        media = body["content"]["application/json"]
        media["example"] = example(media["schema"], schemas)
        operation["requestBody"] = body
    success = (generated["responses"].get("200") or {}).get("content", {}).get("application/json", {})
    responses: dict[str, Any] = {}
    for status, media_type in handler.successes.items():
        answer: dict[str, Any] = {"description": SUCCESS.get(status, "See the description")}
        if media_type == "application/json":
            answer["content"] = {media_type: {"schema": success.get("schema", {})}}
        elif media_type:
            answer["content"] = {media_type: {"schema": {"type": "string"}}}
        responses[str(status)] = answer
    statuses = {413, 422, 429, 503, 504}
    if route.authorized:
        statuses |= {401, 403}
    if route.method in BODY_METHODS or body is not None:
        statuses |= {400, 415}
    if any(p["name"] == "cursor" and p["in"] == "query" for p in parameters):
        statuses.add(400)
    if route.authorized and route.method == "POST":
        statuses.add(400)
    if route.method != "GET":
        statuses.add(409)
    if "{" in route.path:
        statuses.add(404)
    for status in sorted(statuses | app.errors.keys()):
        if str(status) in responses:
            continue  # a success body of that status (GET /health answers 503 with its report)
        meaning = app.errors.get(status)
        if meaning:
            responses[str(status)] = {"description": meaning, "content": copy.deepcopy(_PROBLEM_CONTENT)}
        else:
            responses[str(status)] = {"$ref": f"#/components/responses/{SHARED[status][0]}"}
    operation["responses"] = dict(sorted(responses.items()))
    if route.authorized:
        operation["security"] = [{"bearerAuth": []}]
    return operation


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID): a retry with the same key and body answers the first response "
    "(`Idempotent-Replayed: true`) instead of doing the work twice; kept 24 hours per caller.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
}
_PARAMETER_TEXTS = {
    "limit": f"Items per page (1-{MAX_LIMIT}).",
    "cursor": "Where the next page starts: the `nextCursor` of the previous page.",
}


def _described(parameter: dict[str, Any]) -> dict[str, Any]:
    text = _PARAMETER_TEXTS.get(parameter["name"]) if parameter["in"] == "query" else None
    if text and "description" not in parameter:
        return {**parameter, "description": text}
    return parameter


def _texts(docstring: str, route: Route) -> tuple[str, str]:
    """(summary, description) from the module docstring `METHOD /path: what it does. More.`"""
    text = re.sub(r"^[A-Z]+ \S+: ", "", docstring.strip())
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)  # docstring line breaks inside a paragraph
    if not text:
        raise ValueError(f"{route.module_file}: no docstring")
    plain = re.sub(r"\s*\([^()]*\)", "", text.split("\n\n")[0])  # the first paragraph without asides
    first = re.split(r"(?<=[.;:])\s", plain, maxsplit=1)[0].rstrip(".;:")
    summary = first[:1].upper() + first[1:]
    if len(summary) > 100:
        summary = summary[:97].rsplit(" ", 1)[0] + "..."
    return summary, text[:1].upper() + text[1:]


def _callers(app: Api) -> str:
    if app.public:
        return "anyone: no token."
    parts = []
    if app.roles == {PLATFORM_ADMIN}:
        parts.append("the platform admin (a platform token).")
    elif app.roles is not None and app.roles >= set(TENANT_ROLES):
        parts.append("any user of the tenant.")
    elif app.roles is not None:
        parts.append(f"the roles {', '.join(sorted(app.roles))}.")
    if app.allow_temporary_password:
        parts.append("A temporary password need not be changed first.")
    if app.permission is not None:
        grant = policy.CATALOGUE[app.permission]
        parts.append(f"a user whose role holds `{grant.name}`: {grant.description}")
        if grant.scopable:
            parts.append(
                f"Granted as `{grant.name}:team` it reaches {grant.team_means}; as `{grant.name}:self`, "
                f"{grant.self_means}."
            )
        if app.free_for_self:
            parts.append("Without the permission, a tenant user is admitted for themselves (scope self).")
    return " ".join(parts)


# ---------------------------------------------------------------- request examples


_HINTS: dict[str, Any] = {  # field name -> example value, where the schema alone says too little
    "email": "asha.rao@example.com",
    "adminEmail": "admin@acme.example.com",
    "employeeEmail": "asha.rao@example.com",
    "slug": "acme",
    "tenantSlug": "acme",
    "name": "Acme",
    "password": "quiet orchard meteor 53 drifts",
    "currentPassword": "Tmp-3xZq9-kLw2",
    "newPassword": "quiet orchard meteor 53 drifts",
    "firstName": "Asha",
    "lastName": "Rao",
    "phone": "+91 98765 43210",
    "pan": "ABCDE1234F",
    "aadhaar": "234123412346",
    "code": "ENG",
    "title": "Engineer",
    "country": "IN",
    "currency": "INR",
    "timezone": "Asia/Kolkata",
    "month": "2025-03",
    "fileName": "employees.csv",
    "contentType": "text/csv",
    "category": "offer_letter",
    "key": "backups/2025/1/backup_full_2025-01-15T10-30-00.123Z.sql.gz",
    "reason": "Opening balance",
    "comment": "Looks right.",
    "description": "Head office",
    "label": "Summary",
    "cycle": "2025",
    "target": "staging",
    "role": "hr_manager",
    "permissions": ["employees:read:team", "leave:approve:team"],
}


def example(schema: dict[str, Any], schemas: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A value of `schema` (a request body), from its own examples, defaults and formats, else a hint by
    field name; every property of an object (its optional ones too)."""
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    if "examples" in schema:
        return schema["examples"][0]
    if name in _HINTS and depth > 0 and _fits(_HINTS[name], schema, schemas):
        return _HINTS[name]
    if schema.get("default") is not None:
        return schema["default"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [s for s in schema[combinator] if s.get("type") != "null"]
            return example(options[0], schemas, name, depth)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        if not properties and isinstance(schema.get("additionalProperties"), dict):
            return {"example": example(schema["additionalProperties"], schemas, "", depth + 1)}
        return {key: example(value, schemas, key, depth + 1) for key, value in properties.items()}
    if kind == "array":
        return [example(schema.get("items") or {}, schemas, name, depth + 1)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 10)), 10)
    if kind == "boolean":
        return True
    if kind == "string":
        return _string(schema)
    return "example"


def _fits(value: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether a hint suits the field's schema (the same name means other things in other bodies)."""
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    for option in options:
        while "$ref" in option:
            option = schemas[option["$ref"].rsplit("/", 1)[-1]]
        if isinstance(value, str) and option.get("type") == "string" and "enum" not in option:
            pattern, longest = option.get("pattern"), option.get("maxLength")
            if (pattern is None or re.search(pattern, value)) and (longest is None or len(value) <= longest):
                return True
        elif isinstance(value, list) and option.get("type") == "array":
            return True
    return False


def _string(schema: dict[str, Any]) -> str:
    formats = {
        "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "date": "2025-04-01",
        "date-time": "2025-04-01T09:30:00Z",
        "email": "asha.rao@example.com",
    }
    if schema.get("format") in formats:
        return formats[str(schema["format"])]
    pattern = schema.get("pattern")
    if pattern:
        for candidate in ("1000.00", "2025-03", "acme", "basic", "ENG", "IN", "INR", "a@example.com"):
            if re.search(pattern, candidate):
                return candidate
    return "text"[: max(int(schema.get("maxLength", 4)), 1)].ljust(int(schema.get("minLength", 0)), "x")
