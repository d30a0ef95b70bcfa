"""`api()`: the Powertools REST resolver every HTTP function uses.

It validates requests with pydantic, resolves the actor from the authorizer context (never
from the request itself), enforces the function's roles or permission and the body size,
honours `Idempotency-Key` on POST, and maps every error to problem+json in one place.
Every invocation counts one `Requests` metric by outcome, and by operation and outcome.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from hrms.config import settings
from hrms.errors import DomainError, Forbidden, Invalid, PayloadTooLarge
from hrms.http import idempotency
from hrms.http.responses import problem, problem_from
from hrms.observability import SERVICE, container_metrics, instrumented, logger
from hrms.request_context import request_id
from hrms.tenancy import Actor, Tenant, actor_from_authorizer

IDEMPOTENCY_HEADER = "idempotency-key"
_CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type", "Idempotency-Key"], max_age=600)


class Api(APIGatewayRestResolver):
    """The resolver of one function and the rules for who may call it."""

    def __init__(
        self,
        *,
        roles: Collection[str] | None = None,
        permission: str | None = None,
        public: bool = False,
        allow_temporary_password: bool = False,
    ) -> None:
        # API Gateway answers the preflight (template Cors); the function adds the CORS headers to responses.
        super().__init__(enable_validation=True, cors=_CORS)
        if public == bool(roles or permission):
            raise ValueError("an api is either public, or names roles and/or a permission")
        self.roles = frozenset(roles) if roles else None
        self.permission = permission
        self.public = public
        self.allow_temporary_password = allow_temporary_password
        self._actor: Actor | None = None
        self._scope: str | None = None
        self.exception_handler(DomainError)(problem_from)
        self.exception_handler(RequestValidationError)(_validation_problem)
        self.exception_handler(NotFoundError)(lambda _: problem(404, "No such route."))
        self.exception_handler(Exception)(_unexpected_problem)
        self.metrics = container_metrics()
        self.handler = instrumented(self.metrics)(self._handle)

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

    @property
    def scope(self) -> str:
        """How far the caller's permission reaches: "all", "team" (reporting line) or "self"."""
        return self._scope or "all"

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Powertools keeps the current event and context on its shared router class: fine with one
        invocation per process (Lambda), but the local runtime runs many functions in one process, where
        a concurrent request could be routed with another's event. Pin them on this instance instead."""
        self.current_event = cast(APIGatewayProxyEvent, self._to_proxy_event(dict(event)))
        self.lambda_context = context
        return super().resolve(event, context)

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """The Lambda entry point: the response, and the `Requests` metric of its outcome."""
        result = self._respond(event, context)
        self._count(event, int(result["statusCode"]))
        return result

    def _count(self, event: dict[str, Any], status: int) -> None:
        """Dimensions: outcome (success, client_error, server_error) and the operation (the route as the
        template declares it, e.g. "GET /employees/{employeeId}": one per function). Never the tenant."""
        outcome = "success" if status < 400 else "client_error" if status < 500 else "server_error"
        operation = f"{event.get('httpMethod')} {event.get('resource')}"
        self.metrics.add_dimension(name="outcome", value=outcome)
        self.metrics.add_dimensions(service=SERVICE, operation=operation, outcome=outcome)
        self.metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)

    def _respond(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Admission checks, idempotency, then the route."""
        rid = (event.get("requestContext") or {}).get("requestId")
        token = request_id.set(rid)
        logger.set_correlation_id(rid)
        claim: idempotency.Claim | None = None
        try:
            self._actor, self._scope = self._admit(event)
            claimed = self._claim(event)
            if isinstance(claimed, dict):
                return {**claimed, "headers": {**(claimed.get("headers") or {}), "Idempotent-Replayed": "true"}}
            claim = claimed
        except DomainError as error:
            self._actor = None
            request_id.reset(token)
            return _raw(problem_from(error))
        if self._actor is not None and self._actor.tenant is not None:
            logger.append_keys(tenant_id=str(self._actor.tenant.tenant_id))
        try:
            result = self.resolve(event, context)
        except BaseException:
            if claim:
                idempotency.release(claim)
            raise
        finally:
            self._actor, self._scope = None, None
            logger.remove_keys(["tenant_id"])
            request_id.reset(token)
        if claim:
            idempotency.complete(claim, result)
        return result

    def _admit(self, event: dict[str, Any]) -> tuple[Actor | None, str | None]:
        body = event.get("body") or ""
        size = len(base64.b64decode(body)) if event.get("isBase64Encoded") else len(body.encode())
        if size > settings().max_body_bytes:
            raise PayloadTooLarge(f"The request body exceeds {settings().max_body_bytes} bytes.")
        _refuse_nul_parameters(event)
        if self.public:
            return None, None
        actor = actor_from_authorizer((event.get("requestContext") or {}).get("authorizer"))
        if actor.must_change_password and not self.allow_temporary_password:
            raise Forbidden("Change your temporary password first (POST /auth/password).")
        if self.roles is not None and actor.role not in self.roles:
            raise Forbidden("Your role does not allow this operation.")
        scope = None
        if self.permission is not None:
            scope = _granted_scope(actor, self.permission)
        return actor, scope

    def _claim(self, event: dict[str, Any]) -> idempotency.Claim | dict[str, Any] | None:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        key = headers.get(IDEMPOTENCY_HEADER)
        if event.get("httpMethod") != "POST" or key is None or self._actor is None:
            return None
        operation = f"POST {event.get('resource') or event.get('path')}"
        body_hash = idempotency.request_hash(f"{operation} {event.get('path')}", event.get("body"))
        return idempotency.claim(self._actor, key, operation, body_hash)


def _refuse_nul_parameters(event: dict[str, Any]) -> None:
    """PostgreSQL text cannot hold U+0000: a 422 here rather than a 500 from the database (bodies: InputModel)."""
    sources = (
        ("query", "queryStringParameters"),
        ("query", "multiValueQueryStringParameters"),
        ("path", "pathParameters"),
    )
    fields = {
        f"{where}.{name}"
        for where, key in sources
        for name, value in (event.get(key) or {}).items()
        if "\x00" in (value if isinstance(value, str) else "".join(map(str, value or ())))
    }
    if fields:
        message = "must not contain NUL (U+0000) characters"
        raise Invalid(
            "The request does not match the expected schema.",
            errors=[{"field": field, "type": "string_nul", "message": message} for field in sorted(fields)],
        )


def _granted_scope(actor: Actor, permission: str) -> str:
    from hrms.auth.permissions import scope_of, user_permissions
    from hrms.db.postgres import tenant_tx

    if actor.tenant is None:
        raise Forbidden("This operation needs a tenant user.")
    with tenant_tx(actor.tenant, actor) as tx:
        scope = scope_of(user_permissions(tx, actor), permission)
    if scope is None:
        raise Forbidden("Your role does not allow this operation.")
    return scope


def api(
    *,
    roles: Collection[str] | None = None,
    permission: str | None = None,
    public: bool = False,
    allow_temporary_password: bool = False,
) -> Api:
    """The resolver of one HTTP function: `public=True`, or the roles and/or permission it requires."""
    return Api(roles=roles, permission=permission, public=public, allow_temporary_password=allow_temporary_password)


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
