"""Per-invocation values that deep code needs without threading them through every call."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The operation being served, e.g. "GET /users" (the template's route); None outside a request.
operation: ContextVar[str | None] = ContextVar("operation", default=None)
