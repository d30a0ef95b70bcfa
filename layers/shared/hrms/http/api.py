"""`api()`: the Powertools REST resolver every HTTP function uses.

It validates requests with pydantic, resolves the actor from the authorizer context (never
from the request itself), enforces the function's roles and body size, and maps every error
to problem+json in one place.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from hrms.config import settings
from hrms.errors import DomainError, Forbidden, PayloadTooLarge
from hrms.http.responses import problem, problem_from
from hrms.observability import logger, tracer
from hrms.tenancy import Actor, Tenant, actor_from_authorizer


class Api(APIGatewayRestResolver):
    """A resolver for one function; `roles=None` makes it public (no authorizer)."""

    def __init__(self, roles: Collection[str] | None) -> None:
        super().__init__(enable_validation=True)
        self.roles = frozenset(roles) if roles is not None else None
        self._actor: Actor | None = None
        self.exception_handler(DomainError)(problem_from)
        self.exception_handler(RequestValidationError)(_validation_problem)
        self.exception_handler(NotFoundError)(lambda _: problem(404, "No such route."))
        self.exception_handler(Exception)(_unexpected_problem)
        self.handler = logger.inject_lambda_context(tracer.capture_lambda_handler(self._handle))

    @property
    def actor(self) -> Actor:
        """The verified caller of the current request."""
        if self._actor is None:
            raise Forbidden("This operation needs an authenticated caller.")
        return self._actor

    @property
    def tenant(self) -> Tenant:
        """The caller's tenant, from the verified token only."""
        tenant = self.actor.tenant
        if tenant is None:
            raise Forbidden("This operation needs a tenant user.")
        return tenant

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """The Lambda entry point: admission checks, then the route."""
        logger.set_correlation_id(event.get("requestContext", {}).get("requestId"))
        try:
            self._actor = self._admit(event)
        except DomainError as error:
            return _raw(problem_from(error))
        if self._actor is not None:
            logger.append_keys(tenant_id=str(self._actor.tenant.tenant_id) if self._actor.tenant else None)
        try:
            return self.resolve(event, context)
        finally:
            self._actor = None
            logger.remove_keys(["tenant_id"])

    def _admit(self, event: dict[str, Any]) -> Actor | None:
        body = event.get("body") or ""
        size = len(base64.b64decode(body)) if event.get("isBase64Encoded") else len(body.encode())
        if size > settings().max_body_bytes:
            raise PayloadTooLarge(f"The request body exceeds {settings().max_body_bytes} bytes.")
        if self.roles is None:
            return None
        actor = actor_from_authorizer((event.get("requestContext") or {}).get("authorizer"))
        if actor.role not in self.roles:
            raise Forbidden("Your role does not allow this operation.")
        return actor


def api(roles: Collection[str] | None) -> Api:
    """The resolver of one HTTP function; pass the roles allowed to call it (None = public)."""
    return Api(roles)


def _raw(response: Response) -> dict[str, Any]:
    """A proxy result for errors raised before routing (the resolver is not involved yet)."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": response.headers.get("Content-Type", "application/json")},
        "body": response.body,
        "isBase64Encoded": False,
    }


def _validation_problem(error: RequestValidationError) -> Response:
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "The request body is not valid JSON.")
    if all(e.get("loc", ("",))[0] == "path" for e in errors):
        return problem(404, "No such resource.")  # a malformed id can never exist
    return problem(
        422,
        "The request does not match the expected schema.",
        errors=[
            {"field": ".".join(str(p) for p in e.get("loc", ())), "type": e.get("type"), "message": e.get("msg")}
            for e in errors
        ],
    )


def _unexpected_problem(error: Exception) -> Response:
    logger.exception("Unhandled error")
    return problem(500, "An unexpected error occurred; it has been logged.")
