"""The sweep (OutboxRelayFunction, every minute): deliver what the after-commit publish left behind.

One run:
1. Takes the tenants listed in `public.outbox_pending` (at most `MAX_TENANTS`, longest pending
   first); other tenants are never touched, so a run costs nothing per idle tenant.
2. Per tenant:
   - purges rows published more than `OUTBOX_RETENTION_DAYS` (default 7) ago, among its
     `PURGE_WINDOW` oldest rows;
   - delivers its unpublished rows older than `MIN_AGE_S` (younger ones are the after-commit
     publish's), in id order, `ROWS_PER_TX` per transaction, each row at most once per run and at
     most `MAX_ROWS_PER_TENANT` rows per run, so one large backlog cannot starve the other tenants;
   - removes the tenant's marker if its outbox is drained (`store.release_marker`).
3. Stops starting new work at `deadline`; whatever is left keeps its marker, so the next run resumes.
With tenant cells (hrms.db.cells) each cell's `public.outbox_pending` lists the tenants it hosts: a run reads
every cell's and visits the longest pending first, whichever cell; a cell that does not answer waits.

Each row goes to its event type's queue (`publisher.deliver`); rows whose queue is not configured are
passed over (they keep their tenant's marker). Rows are locked `FOR UPDATE SKIP LOCKED` while they are
sent, so concurrent sweeps and after-commit publishes never send a row twice at the same time. If SQS
cannot be reached (or refuses the call), the run stops sending: the rows keep their markers and
`oldest_pending_s` grows, which the OutboxBacklogAlarm watches. A tenant whose visit fails (a database
error) is logged and skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from hrms.config import settings
from hrms.db import cells
from hrms.db.postgres import tenant_tx, transaction
from hrms.errors import DomainError
from hrms.observability import logger
from hrms.outbox import publisher, store
from hrms.tenancy import Tenant

MIN_AGE_S = 5.0
ROWS_PER_TX = 50
MAX_ROWS_PER_TENANT = 1_000
MAX_TENANTS = 2_000
PURGE_WINDOW = 1_000


@dataclass
class SweepSummary:
    tenants: int = 0  # visited
    published: int = 0
    failed: int = 0  # publish attempts that failed (the rows stay for the next run)
    waiting: int = 0  # rows passed over because their event type's queue is not configured
    purged: int = 0
    released: int = 0  # tenants found drained and removed from the pending list
    errors: int = 0  # tenant visits that failed
    oldest_pending_s: float = 0.0  # age of the oldest row still unpublished after its tenant's visit
    interrupted: bool = False  # SQS could not be reached, or the deadline came first
    visited: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "visited"}


def sweep(
    *,
    deadline: float | None = None,
    min_age_s: float = MIN_AGE_S,
    max_tenants: int = MAX_TENANTS,
    max_rows_per_tenant: int = MAX_ROWS_PER_TENANT,
    rows_per_tx: int = ROWS_PER_TX,
) -> SweepSummary:
    """One run over the pending tenants; `deadline` is a `time.monotonic()` value."""
    summary = SweepSummary()
    unset = publisher.unconfigured_queues()
    if unset:
        names = ", ".join(name.upper() for name in unset)
        logger.warning(f"{names} not set: the outbox events for these queues stay in the tables")
    pending = []
    for cell in cells.configured() if not cells.single() else [cells.DEFAULT]:  # each cell lists its own tenants
        try:
            with transaction(cell) as conn:
                pending += store.pending_tenants(conn, max_tenants)
        except DomainError as exc:  # a cell down: its tenants wait for the next run
            summary.errors += 1
            logger.warning("Outbox sweep could not read a cell", extra={"cell": cell, "error": repr(exc)})
    pending = sorted(pending, key=lambda row: (row.since, row.tenant_id))[:max_tenants]
    for row in pending:
        if summary.interrupted or (deadline is not None and time.monotonic() >= deadline):
            summary.interrupted = True
            break
        tenant = Tenant(row.tenant_id, row.schema_name)
        try:
            _visit(tenant, summary, min_age_s, (max_rows_per_tenant, rows_per_tx), deadline)
        except (psycopg.Error, DomainError, ValueError) as exc:
            summary.errors += 1
            logger.warning(
                "Outbox sweep failed for a tenant", extra={"tenant_id": str(tenant.tenant_id), "error": repr(exc)}
            )
    return summary


def _visit(
    tenant: Tenant, summary: SweepSummary, min_age_s: float, limits: tuple[int, int], deadline: float | None
) -> None:
    max_rows, per_tx = limits
    summary.tenants += 1
    summary.visited.append(str(tenant.tenant_id))
    with tenant_tx(tenant) as tx:
        summary.purged += store.purge(tx, settings().outbox_retention_days, PURGE_WINDOW)
    after_id, tried = 0, 0
    while tried < max_rows and not (deadline is not None and time.monotonic() >= deadline):
        with tenant_tx(tenant) as tx:
            rows = store.lock_left_behind(tx, after_id, min_age_s, min(per_tx, max_rows - tried))
            delivery = publisher.deliver(tx, rows)
        if not rows:
            break
        tried, after_id = tried + len(rows), rows[-1].id
        summary.published += len(delivery.published)
        summary.failed += len(delivery.failed)
        summary.waiting += len(delivery.waiting)
        if delivery.interrupted:  # SQS unreachable or refusing: stop the run, the next one retries
            summary.interrupted = True
            break
    with tenant_tx(tenant) as tx:
        released, oldest_s = store.release_marker(tx)
    summary.released += released
    summary.oldest_pending_s = max(summary.oldest_pending_s, oldest_s or 0.0)


def publish_metrics(summary: SweepSummary, metrics: EphemeralMetrics) -> None:
    """OutboxPublished, OutboxPublishFailures, OutboxPurged, OutboxSweepErrors and
    OutboxOldestPendingSeconds (0 when nothing waits) of one run; no dimension but the service."""
    metrics.add_metric(name="OutboxPublished", unit=MetricUnit.Count, value=summary.published)
    metrics.add_metric(name="OutboxPublishFailures", unit=MetricUnit.Count, value=summary.failed)
    metrics.add_metric(name="OutboxPurged", unit=MetricUnit.Count, value=summary.purged)
    metrics.add_metric(name="OutboxSweepErrors", unit=MetricUnit.Count, value=summary.errors)
    metrics.add_metric(name="OutboxOldestPendingSeconds", unit=MetricUnit.Seconds, value=summary.oldest_pending_s)
