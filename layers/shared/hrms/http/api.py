"""`api()`: the Powertools REST resolver every HTTP function uses.

The order of checks is fixed here, once, for every route:
1. authentication and revocation: the caller as they are now (`hrms.auth.credentials`), from the
   authorizer context only: 401 for a revoked token, 403 for a suspended tenant or a temporary
   password that must be changed first;
2. the body, parsed in one place (`hrms.http.bodies`: 413, 415, 400, 422) and parameters without
   NUL (422), then `Idempotency-Key` on POST;
3. validation of path, query and body against the route's models (400/422);
4. admission by the route's declared permission (403 naming it); its scope (`all`, `team`,
   `self`, see `hrms.auth.policy`) goes to the domain as `app.scope`;
5. the domain: the subject of the operation against the scope, then the duties (403/404/409).
Every error is problem+json, mapped in one place. Every invocation counts one `Requests` metric
by outcome, and by operation and outcome.

What a route answers is documented from these declarations (`hrms.openapi.build`): the statuses
every route of its kind can give follow from the steps above; `errors` adds those its domain gives
(step 5), each with what it means for this operation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

import psycopg
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from hrms.auth import credentials, policy
from hrms.config import settings
from hrms.errors import DomainError, Forbidden, Invalid
from hrms.http import bodies, idempotency
from hrms.http.responses import problem, problem_from
from hrms.observability import SERVICE, container_metrics, instrumented, logger
from hrms.request_context import operation, request_id
from hrms.tenancy import Actor, Tenant

IDEMPOTENCY_HEADER = "idempotency-key"
DOMAIN_STATUSES = frozenset({400, 401, 403, 404, 409, 422, 429, 503})  # the statuses a domain error may have
_CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type", "Idempotency-Key"], max_age=600)


class Api(APIGatewayRestResolver):
    """The resolver of one function and the rules for who may call it."""

    def __init__(
        self,
        *,
        roles: Collection[str] | None = None,
        permission: str | None = None,
        free_for_self: bool = False,
        public: bool = False,
        allow_temporary_password: bool = False,
        errors: Mapping[int, str] | Collection[int] = (),
    ) -> None:
        # API Gateway answers the preflight (template Cors); the function adds the CORS headers to responses.
        super().__init__(enable_validation=True, cors=_CORS)
        if public == bool(roles or permission):
            raise ValueError("an api is either public, or names roles and/or a permission")
        if permission is not None and permission not in policy.CATALOGUE:
            raise ValueError(f"{permission!r} is not in hrms.auth.policy.CATALOGUE")
        if free_for_self and not (permission and policy.CATALOGUE[permission].scopable):
            raise ValueError("free_for_self needs a scopable permission")
        self.roles = frozenset(roles) if roles else None
        self.permission = permission
        self.free_for_self = free_for_self
        self.public = public
        self.allow_temporary_password = allow_temporary_password
        self.errors: dict[int, str] = dict(errors) if isinstance(errors, Mapping) else dict.fromkeys(errors, "")
        if not self.errors.keys() <= DOMAIN_STATUSES:
            raise ValueError(f"errors: statuses of domain errors are {sorted(DOMAIN_STATUSES)}")
        self.use([self._admission])
        self._actor: Actor | None = None
        self._scope: str | None = None
        self.exception_handler(DomainError)(problem_from)
        self.exception_handler(RequestValidationError)(_validation_problem)
        self.exception_handler(NotFoundError)(lambda _: problem(404, "No such route."))
        self.exception_handler(psycopg.errors.IntegrityError)(_integrity_problem)
        self.exception_handler(psycopg.errors.DataError)(_data_problem)
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
        if self._scope is None:
            if self.permission is not None:
                raise Forbidden("This operation was not admitted.")
            return "all"
        return self._scope

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
        route = f"{event.get('httpMethod')} {event.get('resource')}"
        self.metrics.add_dimension(name="outcome", value=outcome)
        self.metrics.add_dimensions(service=SERVICE, operation=route, outcome=outcome)
        self.metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)

    def _respond(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Admission checks, idempotency, then the route."""
        rid = (event.get("requestContext") or {}).get("requestId")
        token = request_id.set(rid)
        serving = operation.set(f"{event.get('httpMethod')} {event.get('resource')}")
        logger.set_correlation_id(rid)
        claim: idempotency.Claim | None = None
        try:
            self._actor = self._authenticate(event)
            event = bodies.normalised(event, settings().max_body_bytes)
            _refuse_nul_parameters(event)
            claimed = self._claim(event)
            if isinstance(claimed, dict):
                return {**claimed, "headers": {**(claimed.get("headers") or {}), "Idempotent-Replayed": "true"}}
            claim = claimed
        except DomainError as error:
            self._actor = None
            request_id.reset(token)
            operation.reset(serving)
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
            operation.reset(serving)
        if claim:
            idempotency.complete(claim, result)
        return result

    def _authenticate(self, event: dict[str, Any]) -> Actor | None:
        """Step 1: the caller as they are now (None on public routes)."""
        if self.public:
            return None
        writing = str(event.get("httpMethod") or "GET").upper() not in ("GET", "HEAD", "OPTIONS")
        actor = credentials.admit((event.get("requestContext") or {}).get("authorizer"), writing=writing)
        if actor.must_change_password and not self.allow_temporary_password:
            raise Forbidden("Change your temporary password first (POST /auth/password).")
        return actor

    def _admission(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        """Step 4, after validation (a Powertools middleware runs after the request validation one)."""
        if self._actor is not None:
            self._scope = self._admitted_scope(self._actor)
        return next_middleware(app)

    def _admitted_scope(self, actor: Actor) -> str | None:
        if self.roles is not None and actor.role not in self.roles:
            raise Forbidden("Your role does not allow this operation.")
        if self.permission is None:
            return None
        scope = policy.scope_of(actor.permissions, self.permission)
        if scope is None and self.free_for_self and actor.tenant is not None:
            scope = "self"
        if scope is None:
            raise Forbidden(f"This operation needs the permission '{self.permission}'.", permission=self.permission)
        return scope

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


def api(
    *,
    roles: Collection[str] | None = None,
    permission: str | None = None,
    free_for_self: bool = False,
    public: bool = False,
    allow_temporary_password: bool = False,
    errors: Mapping[int, str] | Collection[int] = (),
) -> Api:
    """The resolver of one HTTP function: `public=True`, or the roles and/or permission it requires.

    `permission` is a name of `hrms.auth.policy.CATALOGUE`; `free_for_self` admits, with scope
    `self`, a tenant user who lacks it (an employee always sees their own salary and payslips).
    `errors`: the statuses the operation's domain answers beyond those every route of its kind can
    give (see `hrms.openapi.build`), each with what it means here, e.g. `{409: "The month has a run."}`."""
    return Api(
        roles=roles,
        permission=permission,
        free_for_self=free_for_self,
        public=public,
        allow_temporary_password=allow_temporary_password,
        errors=errors,
    )


def _raw(response: Response) -> dict[str, Any]:
    """A proxy result for errors raised before routing (the resolver is not involved yet)."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json", **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


def _validation_problem(error: RequestValidationError) -> Response:
    errors = error.errors()
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


def _integrity_problem(error: Exception) -> Response:
    """A rule of the database that no domain check caught first: a deliberate 409, logged (scrubbed)
    so the missing check gets written; the answer names no table or constraint."""
    logger.warning("Integrity error reached the API", exc_info=error)
    return problem(409, "The request conflicts with the current data.")


def _data_problem(error: Exception) -> Response:
    logger.warning("Data error reached the API", exc_info=error)
    return problem(422, "A value is out of range or cannot be stored.")


def _unexpected_problem(error: Exception) -> Response:
    logger.exception("Unhandled error")
    return problem(500, "An unexpected error occurred; it has been logged.")
