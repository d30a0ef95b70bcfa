"""The Powertools Logger and Tracer every function shares (service name from POWERTOOLS_SERVICE_NAME).

The tracer does not auto-patch: Tracer's default `patch_all()` imports every library X-Ray can
trace (pymongo, botocore, httpx, requests, sqlite3, ...) at cold start whenever tracing is on,
which it always is in AWS. Each client factory calls `trace_library` for its own library instead.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="hrms")
tracer = Tracer(service="hrms", auto_patch=False)


def trace_library(name: str) -> None:
    """Record X-Ray subsegments for one client library ("botocore", "pymongo", "psycopg").

    Call it before creating the library's client. A no-op when tracing is disabled; patching twice
    is harmless; a failure is logged, never raised (tracing must not break a client).
    """
    try:
        tracer.patch([name])
    except Exception:
        logger.warning("Could not patch a library for X-Ray", extra={"library": name}, exc_info=True)
