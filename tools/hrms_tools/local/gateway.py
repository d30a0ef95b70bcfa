"""A local API Gateway (REST, Lambda proxy integration) driven by template.yaml.

Each request is routed to the function the template maps it to, after running the TOKEN
authorizer as API Gateway does: a missing token (or one failing Identity.ValidationExpression)
-> 401 without calling it; an "Unauthorized" error -> 401; a policy that does not Allow this
method ARN -> 403; context values that are not string/number/boolean -> 500 (logged); the result
cached per token for the template's ReauthorizeEvery (0 = off), context values passed to the
function as strings. The function receives a REST proxy event (v1): single and multi-value
headers and query strings, pathParameters, stageVariables, requestContext, base64 bodies for the
template's BinaryMediaTypes.

Gateway errors use the template's GatewayResponses when it defines them, else problem+json:
429 when a function is at its ReservedConcurrentExecutions (API Gateway relays Lambda's
throttling), 504 past the function's Timeout (its integration timeout), 502 when the function
raises or returns something that is not a proxy response, 413 over API Gateway's 10 MB.
Deviations, kept on purpose: another method on a known path is 405 (API Gateway: 403 Missing
Authentication Token), and Access-Control-Allow-Origin is added to every response of a request
with an Origin (API Gateway only answers the preflight; a proxy function must add it itself).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.serving import make_server as _make_server
from werkzeug.wrappers import Request, Response

from hrms_tools.local.invoker import FunctionTimeout, Throttled, log
from hrms_tools.local.runtime import LocalRuntime, RuntimeOptions
from hrms_tools.local.schedule import ACCOUNT_ID, REGION
from hrms_tools.local.template import Route, Template

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit
MAX_URL_BYTES = 8_192  # API Gateway allows 10,240 bytes of request line and headers together
API_ID = "local"
_RAW_HEADERS = "hrms.raw_headers"
_ERRORS = {  # gateway response type -> (default status, problem title, $context.error.message)
    "UNAUTHORIZED": (401, "Unauthorized", "Unauthorized"),
    "ACCESS_DENIED": (403, "Forbidden", "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "Not Found", "Missing Authentication Token"),
    "THROTTLED": (429, "Too Many Requests", "Too Many Requests"),
    "INTEGRATION_TIMEOUT": (504, "Gateway Timeout", "Endpoint request timed out"),
    "INTEGRATION_FAILURE": (502, "Bad Gateway", "Internal server error"),
    "REQUEST_TOO_LARGE": (413, "Payload Too Large", "Request Too Long"),
    "AUTHORIZER_FAILURE": (500, "Internal Server Error", "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal Server Error", "Internal server error"),
}


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "type": "https://hrms.dev/problems/" + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [],
    }
    return Response(json.dumps(body), status, headers=headers, content_type="application/problem+json")


class AuthorizerCache:
    """Authorizer results per token, kept for the template's TTL (0 disables caching)."""

    def __init__(self, ttl_s: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[bool, dict[str, Any] | None]:
        with self._lock:
            entry = self._entries.get(token)
            if entry and entry[0] > self.clock():
                return True, entry[1]
            return False, None

    def put(self, token: str, policy: dict[str, Any] | None) -> None:
        if self.ttl_s > 0:
            with self._lock:
                if len(self._entries) > 10_000:
                    now = self.clock()
                    self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                self._entries[token] = (self.clock() + self.ttl_s, policy)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _GatewayError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class LocalGateway:
    """A WSGI application: serve it with `make_server` (`hrms dev`) or werkzeug's, or call it from tests."""

    def __init__(
        self, template: Template, options: RuntimeOptions | None = None, *, runtime: LocalRuntime | None = None
    ) -> None:
        self.template = template
        self.runtime = runtime or LocalRuntime(template, options)
        self.containers = self.runtime.containers
        self.warnings = self.runtime.warnings
        ttl = template.authorizer.ttl_s if template.authorizer else 0
        self.auth_cache = AuthorizerCache(ttl)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        self._cors(request, response)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path, method = request.path, request.method
        if len(request.environ.get("RAW_URI") or request.full_path) > MAX_URL_BYTES:
            return problem(414, "URI Too Long", f"The request URL exceeds {MAX_URL_BYTES} bytes.")
        request_id = str(uuid.uuid4())
        route, params, path_exists = self.template.match(method, path)
        try:
            if route is None:
                if method == "OPTIONS" and path_exists and self.template.cors:
                    return self._preflight()
                if path_exists:
                    return problem(405, "Method Not Allowed", f"{method} is not supported on {path}.")
                raise _GatewayError("MISSING_AUTHENTICATION_TOKEN", "No such route.")
            body = request.get_data()
            if len(body) > MAX_PAYLOAD_BYTES:
                raise _GatewayError("REQUEST_TOO_LARGE", "The request body exceeds 10 MB.")
            authorizer_id = self.template.authorizer.function_id if self.template.authorizer else None
            needs_authorizer = route.authorized and authorizer_id is not None
            self.runtime.check_reload(
                route.function_id, *([authorizer_id] if needs_authorizer and authorizer_id else [])
            )
            authorizer: dict[str, Any] | None = None
            if needs_authorizer:
                authorizer = self._authorize(request, self._method_arn(request))
            event = self._event(request, route, params, body, authorizer, request_id)
            result = self._invoke(route.function_id, event, request_id)
            return self._to_response(result, request)
        except _GatewayError as error:
            return self._gateway_response(error, request_id, request)

    def _invoke(self, function_id: str, event: dict[str, Any], request_id: str) -> Any:
        try:
            return self.containers.get(function_id).invoke(event, request_id)
        except Throttled as exc:
            raise _GatewayError("THROTTLED", f"{exc}; retry later.") from exc
        except FunctionTimeout as exc:
            log.error("%s", exc)
            raise _GatewayError("INTEGRATION_TIMEOUT", f"{exc}.") from exc
        except Exception as exc:
            log.error("%s raised %r", function_id, exc, exc_info=exc)
            raise _GatewayError("INTEGRATION_FAILURE", f"{function_id} failed: {type(exc).__name__}.") from exc

    # ----------------------------------------------------------------- authorizer

    def _method_arn(self, request: Request) -> str:
        return (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{self.template.stage}/{request.method}{request.path}"
        )

    def _authorize(self, request: Request, method_arn: str) -> dict[str, Any]:
        spec = self.template.authorizer
        assert spec is not None
        token = request.headers.get(spec.header)
        if not token:
            raise _GatewayError("UNAUTHORIZED", "Missing, invalid or expired token.")
        if spec.validation_expression and not re.fullmatch(spec.validation_expression, token):
            raise _GatewayError("UNAUTHORIZED", "Missing, invalid or expired token.")
        cached, policy = self.auth_cache.get(token)
        latency_ms = 0
        if not cached:
            started = time.perf_counter()
            policy = self._call_authorizer(spec.function_id, token, method_arn)
            latency_ms = int((time.perf_counter() - started) * 1000)
            self.auth_cache.put(token, policy)
        if policy is None:
            raise _GatewayError("UNAUTHORIZED", "Missing, invalid or expired token.")
        if not _allows(policy, method_arn):
            raise _GatewayError("ACCESS_DENIED", "Access denied.")
        context = {key: _stringify(value) for key, value in (policy.get("context") or {}).items()}
        return {**context, "principalId": str(policy["principalId"]), "integrationLatency": latency_ms}

    def _call_authorizer(self, function_id: str, token: str, method_arn: str) -> dict[str, Any] | None:
        """The authorizer's policy, None for "Unauthorized"; errors and invalid results are not cached."""
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        try:
            policy = self.containers.get(function_id).invoke(event)
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return None
            log.error("The authorizer %s failed: %r", function_id, exc, exc_info=exc)
            raise _GatewayError("AUTHORIZER_FAILURE", "The authorizer failed.") from exc
        problem_text = _invalid_policy(policy)
        if problem_text:
            log.error("The authorizer %s returned an invalid result: %s", function_id, problem_text)
            raise _GatewayError("AUTHORIZER_CONFIGURATION_ERROR", f"The authorizer returned {problem_text}.")
        return dict(policy)

    # ----------------------------------------------------------------- events and responses

    def _event(
        self,
        request: Request,
        route: Route,
        params: dict[str, str],
        body: bytes,
        authorizer: dict[str, Any] | None,
        request_id: str,
    ) -> dict[str, Any]:
        raw = request.environ.get(_RAW_HEADERS)
        pairs: list[tuple[str, str]] = list(raw) if raw is not None else list(request.headers.items())
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for key, value in pairs:
            headers[key] = value
            multi_headers.setdefault(key, []).append(value)
        query = {key: values[-1] for key, values in request.args.lists()}
        binary = bool(body) and self._is_binary(request.content_type)
        now = time.time()
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": dict(request.args.lists()) or None,
            "pathParameters": params or None,
            "stageVariables": dict(self.template.stage_variables) if self.template.stage_variables else None,
            "requestContext": {
                "resourceId": _resource_id(route.path),
                "resourcePath": route.path,
                "httpMethod": request.method,
                "extendedRequestId": request_id,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "path": f"/{self.template.stage}{request.path}",
                "accountId": ACCOUNT_ID,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "stage": self.template.stage,
                "domainPrefix": (request.host or "localhost").split(".")[0].split(":")[0],
                "requestTimeEpoch": int(now * 1000),
                "requestId": request_id,
                "identity": {
                    "cognitoIdentityPoolId": None,
                    "accountId": None,
                    "cognitoIdentityId": None,
                    "caller": None,
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "principalOrgId": None,
                    "accessKey": None,
                    "cognitoAuthenticationType": None,
                    "cognitoAuthenticationProvider": None,
                    "userArn": None,
                    "userAgent": request.user_agent.string or None,
                    "user": None,
                },
                "domainName": request.host or "localhost",
                "apiId": API_ID,
                "authorizer": authorizer,
            },
            "body": (base64.b64encode(body).decode() if binary else body.decode("utf-8", "replace")) if body else None,
            "isBase64Encoded": binary,
        }

    def _is_binary(self, content_type: str | None) -> bool:
        media = (content_type or "").split(";")[0].strip().lower()
        return any(fnmatch.fnmatchcase(media, pattern.lower()) for pattern in self.template.binary_media_types)

    def _to_response(self, result: Any, request: Request) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            log.error("malformed proxy response: %s", repr(result)[:200])
            raise _GatewayError("INTEGRATION_FAILURE", "The function returned a malformed proxy response.")
        body = result.get("body") or ""
        if not isinstance(body, str):
            raise _GatewayError("INTEGRATION_FAILURE", "The function returned a body that is not a string.")
        payload = body.encode()
        if result.get("isBase64Encoded"):
            accepted = [part.split(";")[0].strip() for part in request.headers.get("Accept", "").split(",")]
            if any(self._is_binary(media) for media in accepted if media):
                payload = base64.b64decode(body)
            else:
                log.warning(
                    "isBase64Encoded response, but the request's Accept matches none of the BinaryMediaTypes %s: "
                    "API Gateway sends the base64 text",
                    self.template.binary_media_types,
                )
        response = Response(payload, status=int(result["statusCode"]))
        response.headers.remove("Content-Type")
        for key, value in (result.get("headers") or {}).items():
            response.headers[key] = str(value)
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.remove(key)
            for value in values:
                response.headers.add(key, str(value))
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json"  # API Gateway's default for proxy responses
        return response

    def _gateway_response(self, error: _GatewayError, request_id: str, request: Request) -> Response:
        status, title, message = _ERRORS[error.kind]
        responses = self.template.gateway_responses
        configured = responses.get(error.kind) or responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        if configured is None or configured.body is None:
            return problem(status, title, error.detail)
        variables = {
            "$context.requestId": request_id,
            "$context.error.messageString": json.dumps(message),
            "$context.error.message": message,
            "$context.error.responseType": error.kind,
            "$context.path": f"/{self.template.stage}{request.path}",
            "$context.stage": self.template.stage,
            "$context.httpMethod": request.method,
        }
        body = configured.body
        for name in sorted(variables, key=len, reverse=True):
            body = body.replace(name, variables[name])
        headers = {"Content-Type": "application/json", **configured.headers}
        return Response(body, configured.status or status, headers=headers)

    def _preflight(self) -> Response:
        """SAM's OPTIONS method for Cors: a MOCK integration answering 200 with the configured headers."""
        cors = self.template.cors
        response = Response(status=200, content_type="application/json")
        response.headers["Access-Control-Allow-Origin"] = cors.get("AllowOrigin", "*")
        response.headers["Access-Control-Allow-Methods"] = cors.get("AllowMethods", "*")
        response.headers["Access-Control-Allow-Headers"] = cors.get("AllowHeaders", "*")
        if "MaxAge" in cors:
            response.headers["Access-Control-Max-Age"] = cors["MaxAge"]
        if cors.get("AllowCredentials", "").lower() == "true":
            response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    def _cors(self, request: Request, response: Response) -> None:
        cors = self.template.cors
        if cors and "Origin" in request.headers:
            response.headers.setdefault("Access-Control-Allow-Origin", cors.get("AllowOrigin", "*"))


class _RawHeadersHandler(WSGIRequestHandler):
    """Keeps every header line as sent (WSGI joins repeated headers; API Gateway lists them), and sends
    each response without Nagle's delay (headers and body are separate writes on a kept-alive connection)."""

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the HTTP server answers itself (a request line over 64 KiB, a malformed request)
        are problem+json like every other answer."""
        status = HTTPStatus(code)
        body = problem(code, status.phrase, message or status.description).get_data()
        self.log_error("code %d, message %s", code, message)
        self.send_response(code, message)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def make_environ(self) -> Any:
        environ = super().make_environ()
        environ[_RAW_HEADERS] = list(self.headers.items())
        return environ


def make_server(gateway: LocalGateway, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded werkzeug server for the gateway (a thread per connection)."""
    return _make_server(host, port, gateway, threaded=True, request_handler=_RawHeadersHandler)


def _invalid_policy(policy: Any) -> str | None:
    if not isinstance(policy, dict) or "principalId" not in policy or "policyDocument" not in policy:
        return "no principalId and policyDocument"
    context = policy.get("context")
    if context is None:
        return None
    if not isinstance(context, dict):
        return "a context that is not an object"
    bad = sorted(key for key, value in context.items() if not isinstance(value, str | int | float | bool))
    if bad:
        return f"context values that are not string, number or boolean ({', '.join(bad)})"
    return None


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    """IAM evaluation of the policy for this method ARN: an explicit Deny wins, then an Allow is needed."""
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    effects = set()
    for statement in statements:
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        if any(_iam_match(a, "execute-api:Invoke") for a in actions) and any(
            _iam_match(r, method_arn) for r in resources
        ):
            effects.add(str(statement.get("Effect")))
    return "Allow" in effects and "Deny" not in effects


def _iam_match(pattern: str, value: str) -> bool:
    return _iam_pattern(pattern).fullmatch(value) is not None


@lru_cache(maxsize=1024)
def _iam_pattern(pattern: str) -> re.Pattern[str]:
    """An IAM wildcard (`*` any run of characters, `?` one) as a regex; actions are case-insensitive. Any
    character means any: a path parameter may decode to a newline, which `*` matches too (DOTALL)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, flags=re.DOTALL | (re.IGNORECASE if pattern.startswith("execute-api") else 0))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _stringify(value: Any) -> str:
    """API Gateway passes every authorizer context value to the integration as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@lru_cache(maxsize=1024)
def _resource_id(path: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, path).hex[:6]
