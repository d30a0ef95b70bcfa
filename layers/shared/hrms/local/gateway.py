"""A local API Gateway (REST, proxy integration) driven by template.yaml.

Each request is routed to the function the template maps it to, after running the TOKEN
authorizer exactly as API Gateway does (missing token -> 401 without calling it; an
"Unauthorized" error -> 401; a Deny policy -> 403; the policy cached per token for the
template's ReauthorizeEvery). The function receives a REST proxy event (v1).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from hrms.local.invoker import Containers
from hrms.local.openapi import build_openapi
from hrms.local.template import Route, Template
from hrms.observability import logger

STAGE = "v1"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit
_SWAGGER_DIR = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
_SWAGGER_ASSETS = {"/docs/swagger-ui-bundle.min.js": "application/javascript", "/docs/swagger-ui.min.css": "text/css"}


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

    def __init__(self, ttl_s: int) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[bool, dict[str, Any] | None]:
        with self._lock:
            entry = self._entries.get(token)
            if entry and entry[0] > time.monotonic():
                return True, entry[1]
            return False, None

    def put(self, token: str, policy: dict[str, Any] | None) -> None:
        if self.ttl_s > 0:
            with self._lock:
                self._entries[token] = (time.monotonic() + self.ttl_s, policy)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class LocalGateway:
    """A WSGI application: serve it with werkzeug (`hrms dev`) or call it from tests."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.containers = Containers(template.functions)
        ttl = template.authorizer.ttl_s if template.authorizer else 0
        self.auth_cache = AuthorizerCache(ttl)
        self._openapi: bytes | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        self._cors(request, response)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/openapi.json" and method == "GET":
            return Response(self.openapi(), content_type="application/json")
        if (path == "/docs" or path in _SWAGGER_ASSETS) and method == "GET":
            return self._docs(path)
        route, params, path_exists = self.template.match(method, path)
        if route is None:
            if method == "OPTIONS" and path_exists and self.template.cors:
                return Response(status=204)
            if path_exists:
                return problem(405, "Method Not Allowed", f"{method} is not supported on {path}.")
            return problem(404, "Not Found", "No such route.")
        body = request.get_data()
        if len(body) > MAX_PAYLOAD_BYTES:
            return problem(413, "Payload Too Large", "The request body exceeds 10 MB.")
        request_id = str(uuid.uuid4())
        authorizer: dict[str, Any] | None = None
        if route.authorized and self.template.authorizer:
            outcome = self._authorize(request, route)
            if isinstance(outcome, Response):
                return outcome
            authorizer = outcome
        event = self._event(request, route, params, body, authorizer, request_id)
        return self._to_response(self.containers.get(route.function_id).invoke(event, request_id))

    def openapi(self) -> bytes:
        if self._openapi is None:
            self._openapi = json.dumps(build_openapi(self.template, self.containers)).encode()
        return self._openapi

    # ----------------------------------------------------------------- authorizer

    def _authorize(self, request: Request, route: Route) -> dict[str, Any] | Response:
        spec = self.template.authorizer
        assert spec is not None
        token = request.headers.get(spec.header)
        unauthorized = problem(401, "Unauthorized", "Missing, invalid or expired token.")
        if not token:
            return unauthorized
        cached, policy = self.auth_cache.get(token)
        if not cached:
            policy = self._call_authorizer(spec.function_id, token, route, request)
            self.auth_cache.put(token, policy)
        if policy is None:
            return unauthorized
        if not _allows(policy):
            return problem(403, "Forbidden", "Access denied.")
        context = dict(policy.get("context") or {})
        bad = [key for key, value in context.items() if not isinstance(value, str | int | float | bool)]
        if bad:
            logger.error("Authorizer context values must be string, number or boolean", extra={"keys": bad})
            return problem(500, "Internal Server Error", "The authorizer returned an invalid context.")
        return {**context, "principalId": policy.get("principalId")}

    def _call_authorizer(self, function_id: str, token: str, route: Route, request: Request) -> dict[str, Any] | None:
        method_arn = f"arn:aws:execute-api:us-east-1:000000000000:local/{STAGE}/{route.method}{request.path}"
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        try:
            return self.containers.get(function_id).invoke(event)
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return None
            raise

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
        headers = {key: value for key, value in request.headers.items()}
        multi_headers: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            multi_headers.setdefault(key, []).append(value)
        query = {key: values[-1] for key, values in request.args.lists()}
        is_text = not body or _is_text(request.content_type)
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": dict(request.args.lists()) or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": request.method,
                "path": f"/{STAGE}{request.path}",
                "stage": STAGE,
                "requestId": request_id,
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string},
                "authorizer": authorizer,
                "accountId": "000000000000",
                "apiId": "local",
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            },
            "body": (body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode()) if body else None,
            "isBase64Encoded": not is_text,
        }

    @staticmethod
    def _to_response(result: Any) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            return problem(502, "Bad Gateway", "The function returned a malformed proxy response.")
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(payload, status=int(result["statusCode"]))
        for key, value in (result.get("headers") or {}).items():
            response.headers[key] = str(value)
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.remove(key)
            for value in values:
                response.headers.add(key, str(value))
        return response

    def _cors(self, request: Request, response: Response) -> None:
        cors = self.template.cors
        if not cors or "Origin" not in request.headers:
            return
        response.headers.setdefault("Access-Control-Allow-Origin", cors.get("AllowOrigin", "*"))
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = cors.get("AllowMethods", "*")
            response.headers["Access-Control-Allow-Headers"] = cors.get("AllowHeaders", "*")
            if "MaxAge" in cors:
                response.headers["Access-Control-Max-Age"] = cors["MaxAge"]

    def _docs(self, path: str) -> Response:
        from importlib import resources

        from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

        if path in _SWAGGER_ASSETS:
            content = resources.files(_SWAGGER_DIR).joinpath(Path(path).name).read_bytes()
            return Response(content, content_type=_SWAGGER_ASSETS[path])
        html = generate_swagger_html(
            self.openapi().decode(), "/docs/swagger-ui-bundle.min.js", "/docs/swagger-ui.min.css", "/docs", None, True
        )
        return Response(html, content_type="text/html")


def _allows(policy: dict[str, Any]) -> bool:
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    effects = {str(s.get("Effect")) for s in statements}
    return "Allow" in effects and "Deny" not in effects


def _is_text(content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    return ct.startswith("text/") or "json" in ct or "xml" in ct or "x-www-form-urlencoded" in ct
