"""Response builders: JSON bodies with camelCase keys, problem+json for errors."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response

from hrms.errors import DomainError, TooManyRequests

T = TypeVar("T")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://hrms.dev/problems/"


NO_STORE = {"Cache-Control": "no-store"}  # answers carrying credentials: never kept by a browser or proxy


def ok(body: T, status: int = 200, headers: dict[str, str] | None = None) -> Response[T]:
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def created(body: T) -> Response[T]:
    return ok(body, 201)


def no_content() -> Response[None]:
    return Response(status_code=204, body=None)


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
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response
