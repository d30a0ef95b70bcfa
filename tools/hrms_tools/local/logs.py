"""Per-thread Powertools log keys, so concurrent invocations in one process never share them.

In Lambda every execution environment is its own process, so `logger.append_keys(tenant_id=...)`
and the Lambda context keys are that invocation's alone. Locally all containers share one
process and Powertools keeps appended keys in a dict on the (shared) formatter: two requests of
two tenants running at once would log each other's tenant_id and request id. Each formatter's
keys are therefore made per thread (each container has its own thread), starting from the keys
the formatter had when it was isolated.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

_lock = threading.Lock()
_seen_loggers = -1


def isolate_log_keys() -> None:
    """Make the keys of every Powertools formatter per thread (idempotent, cheap when nothing changed)."""
    global _seen_loggers
    loggers = logging.Logger.manager.loggerDict
    if len(loggers) == _seen_loggers:
        return
    with _lock:
        for candidate in list(loggers.values()):
            handler = getattr(candidate, "powertools_handler", None)
            formatter = getattr(handler, "formatter", None)
            if formatter is not None and hasattr(formatter, "log_format"):
                _isolate(formatter)
        _seen_loggers = len(loggers)


def _isolate(formatter: Any) -> None:
    cls = type(formatter)
    if getattr(cls, "_per_thread_keys", False):
        return
    initial = dict(formatter.__dict__.pop("log_format", {}))
    local = threading.local()

    def get(self: Any) -> dict[str, Any]:
        keys = getattr(local, "keys", None)
        if keys is None:
            keys = local.keys = dict(initial)
        return keys

    def put(self: Any, value: dict[str, Any]) -> None:
        local.keys = value

    formatter.__class__ = type(cls.__name__, (cls,), {"log_format": property(get, put), "_per_thread_keys": True})
