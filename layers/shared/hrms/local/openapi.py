"""One OpenAPI document for the whole API, merged from each function's Powertools resolver."""

from __future__ import annotations

import json
from typing import Any

from hrms.local.invoker import Containers
from hrms.local.template import Template


def build_openapi(template: Template, containers: Containers) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for route in template.routes:
        app = getattr(containers.get(route.function_id).module, "app", None)
        if app is None:
            continue
        spec = json.loads(app.get_openapi_json_schema(title="HRMS", version="1"))
        schemas.update(spec.get("components", {}).get("schemas", {}))
        for operation in spec.get("paths", {}).get(route.path, {}).values():
            operation["operationId"] = route.function_id.removesuffix("Function")
            if route.authorized:
                operation["security"] = [{"bearerAuth": []}]
                operation.setdefault("responses", {}).update(_auth_responses())
            paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "HRMS Serverless API",
            "version": "1.0.0",
            "description": "Multi-tenant HR management API. Errors are application/problem+json.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _auth_responses() -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"type": "object"}}}
    return {
        "401": {"description": "Missing, invalid or expired token", "content": problem},
        "403": {"description": "Role or tenant not allowed", "content": problem},
    }
