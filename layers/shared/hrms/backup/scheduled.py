"""The daily run of BackupFunction: restores that died midway are settled first (their tenants' writes
stay frozen until then, `restore.recover`), then a full backup, then every active tenant's schema in
parallel; each backup has both parts, PostgreSQL and MongoDB.

One failure does not stop the others; the run reports every failure and the handler then fails the
invocation, which is what the CloudWatch alarm on the function's Errors watches. Near the Lambda
deadline no new schema backup is started (the ones not started are reported as failures).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from hrms.backup import dump, repo, restore
from hrms.backup.models import DailyReport
from hrms.config import settings
from hrms.db.postgres import transaction
from hrms.errors import DomainError
from hrms.observability import logger

MARGIN_S = 60.0  # a schema backup is not started with less time than this left


def active_schemas() -> list[str]:
    with transaction() as conn:
        return repo.active_schemas(conn)


def run_daily(*, deadline: float | None = None) -> DailyReport:
    """`deadline` is a time.monotonic() value (the Lambda's end); None: no limit."""
    failures: dict[str, str] = {}
    full_key = None
    try:
        restore.recover()
    except DomainError as exc:  # e.g. MongoDB down: the frozen tenants wait for the next run (or the CLI)
        failures["recover"] = exc.detail
    try:
        full_key = dump.backup_full(reason="scheduled", deadline=deadline).key
    except DomainError as exc:
        failures["full"] = exc.detail
    except Exception as exc:  # a failed full backup must not cost the tenants theirs
        logger.exception("Full backup failed")
        failures["full"] = type(exc).__name__
    schemas = active_schemas()

    def one(schema: str) -> str:
        if deadline is not None and time.monotonic() > deadline - MARGIN_S:
            raise TimeoutError("not started: the run ran out of time")
        return dump.backup_schema(schema, reason="scheduled", deadline=deadline).key

    done = 0
    with ThreadPoolExecutor(max_workers=settings().backup_workers, thread_name_prefix="backup-schema") as pool:
        futures = {pool.submit(one, schema): schema for schema in schemas}
        for future in as_completed(futures):
            error = future.exception()
            if error is None:
                done += 1
            else:
                failures[futures[future]] = getattr(error, "detail", None) or str(error) or type(error).__name__
    report = DailyReport(full_key=full_key, schema_backups=done, failures=failures)
    logger.info("Daily backup run", extra={"full_key": full_key, "schemas": done, "failures": len(failures)})
    return report


def publish_metrics(report: DailyReport, metrics: EphemeralMetrics) -> None:
    """FullBackups (1 or 0), SchemaBackups and BackupFailures of one run; no dimension but the service.

    The BackupMissingAlarm fires on a day without a FullBackups of 1 (the run did not happen or its
    full backup failed); BackupFailedAlarm on the function's Errors covers every failed run.
    """
    metrics.add_metric(name="FullBackups", unit=MetricUnit.Count, value=1 if report.full_key else 0)
    metrics.add_metric(name="SchemaBackups", unit=MetricUnit.Count, value=report.schema_backups)
    metrics.add_metric(name="BackupFailures", unit=MetricUnit.Count, value=len(report.failures))
