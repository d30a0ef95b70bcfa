"""The Powertools Logger, Tracer and Metrics every function shares (service "hrms", namespace "HRMS").

The tracer does not auto-patch: Tracer's default `patch_all()` imports every library X-Ray can
trace (pymongo, botocore, httpx, requests, sqlite3, ...) at cold start whenever tracing is on,
which it always is in AWS. Each client factory calls `trace_library` for its own library instead.

Metrics are per function container (`container_metrics()`), flushed as one CloudWatch EMF log line
at the end of every invocation by `instrumented`. Their dimensions are bounded (service, operation,
outcome, ...): a tenant id goes into the logs (`logger.append_keys(tenant_id=...)`), never into a
dimension, where every tenant would become its own billed metric.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics

from hrms.redaction import ScrubbingFormatter

SERVICE = "hrms"
METRICS_NAMESPACE = "HRMS"  # template.yaml's alarms and dashboard read this namespace

logger = Logger(service=SERVICE, logger_formatter=ScrubbingFormatter())
tracer = Tracer(service=SERVICE, auto_patch=False)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def container_metrics() -> EphemeralMetrics:
    """The metrics of one function container: call it once per function module.

    EphemeralMetrics keeps its metrics on the instance, whereas Powertools' `Metrics` shares them
    process-wide; locally every container lives in one process, so a shared set would mix (and
    flush) the metrics of concurrent invocations.
    """
    return EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def instrumented(metrics: EphemeralMetrics) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: Lambda context in every log line (never the event, which may carry
    PAN/Aadhaar or passwords), an X-Ray segment (without the response, which may carry personal data),
    and `metrics` flushed after every invocation, also a failed one. The handler must add a metric."""

    def wrap(handler: Handler) -> Handler:
        flushed = metrics.log_metrics(handler)
        traced = tracer.capture_lambda_handler(flushed, capture_response=False)
        return cast(Handler, logger.inject_lambda_context(traced, log_event=False))

    return wrap


def trace_library(name: str) -> None:
    """Record X-Ray subsegments for one client library ("botocore", "pymongo", "psycopg").

    Call it before creating the library's client. A no-op when tracing is disabled; patching twice
    is harmless; a failure is logged, never raised (tracing must not break a client).
    """
    try:
        tracer.patch([name])
    except Exception:
        logger.warning("Could not patch a library for X-Ray", extra={"library": name}, exc_info=True)
