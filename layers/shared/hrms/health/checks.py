"""Health of every store, checked in parallel with a latency each.

Postgres down -> "down" (503): nothing works without it. Redis, Mongo or S3 down -> "degraded"
(200): Redis is only an accelerator and the Mongo/S3 routes fail on their own.
With tenant cells (hrms.db.cells), `postgres` is the control database (cell `default`) and each other cell
has its own check, `postgres:<cell>`; one of those down is "degraded": only that cell's tenants get 503.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Literal

from pydantic import Field

from hrms.models import ApiModel


class Check(ApiModel):
    ok: bool
    latency_ms: float
    detail: str
    reason: str | None = Field(default=None, exclude=True)  # the error itself: for operators, never for clients


class HealthReport(ApiModel):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, Check]

    @property
    def http_status(self) -> int:
        return 503 if self.status == "down" else 200


def _postgres(cell: str = "default") -> str:
    from hrms.db.postgres import transaction

    with transaction(cell) as conn:
        row = conn.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()")
        return f"connected ({row.fetchone()['n']} connections)"  # type: ignore[index]


def _mongo() -> str:
    from hrms.db.mongo import client

    client().admin.command("ping")
    return "connected"


def _redis() -> str:
    from hrms.cache.admin import ping

    ping()  # every primary of a cluster
    return "connected"


def _s3() -> str:
    from hrms import aws
    from hrms.config import settings

    aws.client("s3").head_bucket(Bucket=settings().backup_bucket)
    return "bucket reachable"


CHECKS: dict[str, Callable[[], str]] = {"postgres": _postgres, "mongo": _mongo, "redis": _redis, "s3": _s3}


def _timed(check: Callable[[], str]) -> Check:
    started = time.perf_counter()
    reason = None
    try:
        detail, ok = check(), True
    except Exception as exc:
        detail, ok = f"unavailable ({type(exc).__name__})", False
        reason = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return Check(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), detail=detail, reason=reason)


def _with_cells() -> dict[str, Callable[[], str]]:
    from hrms.db import cells

    if cells.single():
        return CHECKS
    others = [name for name in cells.configured() if name != cells.DEFAULT]
    return {**CHECKS, **{f"postgres:{name}": partial(_postgres, name) for name in others}}


def check_health() -> HealthReport:
    checks_run = _with_cells()
    with ThreadPoolExecutor(max_workers=len(checks_run)) as pool:
        futures = {name: pool.submit(_timed, check) for name, check in checks_run.items()}
        checks = {name: future.result() for name, future in futures.items()}
    if not checks["postgres"].ok:
        status: Literal["ok", "degraded", "down"] = "down"
    elif all(c.ok for c in checks.values()):
        status = "ok"
    else:
        status = "degraded"
    return HealthReport(status=status, checks=checks)
