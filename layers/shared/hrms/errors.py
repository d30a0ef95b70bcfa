"""Domain errors. Services raise these; `hrms.http.problems` maps them to problem+json."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a status, a short title and a human-readable detail."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class BadRequest(DomainError):
    status = 400
    title = "Bad request"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


class Invalid(DomainError):
    status = 422
    title = "Validation failed"


class TooManyRequests(DomainError):
    """429 with a Retry-After header (seconds)."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = max(1, retry_after_s)


class DependencyDown(DomainError):
    status = 503
    title = "Service unavailable"


class WritesFrozen(DependencyDown):
    """503 with a Retry-After header: the tenant's data is being replaced (a restore); writes wait."""

    def __init__(self, detail: str, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = max(1, retry_after_s)
