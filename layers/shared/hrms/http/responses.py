"""Response builders: JSON bodies with camelCase keys, problem+json for errors."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response

from hrms.errors import DomainError, TooManyRequests, WritesFrozen

T = TypeVar("T")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://hrms.dev/problems/"


NO_STORE = {"Cache-Control": "no-store"}  # answers carrying credentials: never kept by a browser or proxy

_TEXT: dict[str, Any] = {"type": "string"}
_IDS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
PROBLEM_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemError",
    "description": "One field at fault.",
    "type": "object",
    "required": ["field", "type", "message"],
    "properties": {
        "field": {"type": "string", "description": "Where: body.email, query.limit, path.employeeId."},
        "type": {"type": "string", "description": "The kind of error, e.g. missing, string_too_long."},
        "message": {"type": "string"},
    },
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document: the body of every error answer (application/problem+json), "
    "from a function (`problem`) or from API Gateway (the template's GatewayResponses). `errors` names each "
    "field at fault; the extension members below appear on the refusals that name them, others may follow.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": f"A URI naming the kind of problem, e.g. {PROBLEM_BASE}conflict"},
        "title": {"type": "string", "description": "The status's phrase, e.g. Conflict."},
        "status": {"type": "integer", "description": "The HTTP status of the answer."},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "errors": {
            "type": "array",
            "description": "The fields at fault (validation), empty otherwise.",
            "items": {"$ref": "#/components/schemas/ProblemError"},
        },
        "permission": {**_TEXT, "description": "403: the permission the operation needs."},
        "rule": {**_TEXT, "description": "403/409: the rule refused, e.g. self-decision, run-creator, last-admin."},
        "payrollRunId": {"type": ["string", "null"], "description": "409: the payroll run that holds the month."},
        "runStatus": {"type": ["string", "null"], "description": "409: the payroll run's current status."},
        "approvalId": {**_TEXT, "description": "409: the approval task already decided."},
        "currentVersion": {"type": "integer", "description": "409: the settings version now current."},
        "settledMonth": {**_TEXT, "description": "409: a month whose payroll a salary revision would change."},
        "overlapping": {**_IDS, "description": "409: the leave requests on the same dates."},
        "usage": {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "409: what still uses the record (employees, subDepartments, designations).",
        },
        "importId": {**_TEXT, "description": "409: the import refused."},
        "importStatus": {**_TEXT, "description": "409: the import's current status."},
        "result": {"type": "object", "description": "409: the import as it stands (as GET /imports/{importId})."},
        "requested": {"type": "number", "description": "422: leave days requested."},
        "available": {"type": "number", "description": "422: leave days available."},
        "leaveTypeCode": {**_TEXT, "description": "422: the leave type short of days."},
        "year": {"type": "integer", "description": "422: the leave year short of days."},
        "employeeCount": {"type": "integer", "description": "422: employees with a negative net pay."},
        "employeeIds": {**_IDS, "description": "422: some of the employees with a negative net pay."},
        "checks": {"type": "object", "description": "422: the backup checks and their outcome."},
        "accepted": {**_IDS, "description": "415: the media types accepted."},
    },
    "additionalProperties": True,
}


def ok(body: T, status: int = 200, headers: dict[str, str] | None = None) -> Response[T]:
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def created(body: T) -> Response[T]:
    return ok(body, 201)


def no_content() -> Response[None]:
    return Response(status_code=204, body=None)


def html(page: str) -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page)


def problem(status: int, detail: str, /, *, errors: list[dict[str, Any]] | None = None, **extra: Any) -> Response:
    """An RFC 9457 problem document. `extra` members (e.g. a Conflict's `payrollRunId`) add to the
    standard ones and never replace them: an extra named `status` cannot change the answer's status."""
    title = HTTPStatus(status).phrase
    standard = {
        "type": PROBLEM_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    body = {**standard, **{key: value for key, value in extra.items() if key not in standard}}
    # Powertools only serialises application/json bodies itself.
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body, default=str))


def problem_from(error: DomainError) -> Response:
    response = problem(error.status, error.detail, errors=error.errors, **error.extra)
    if isinstance(error, TooManyRequests | WritesFrozen):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response
