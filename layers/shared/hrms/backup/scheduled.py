"""The daily run of BackupFunction: restores that died midway are settled first (their tenants' writes
stay frozen until then, `restore.recover`), then a full backup of every configured cell (`cells.configured()`,
in parallel: each its own cluster), then every active tenant's schema in parallel; each backup has both
parts, PostgreSQL and MongoDB.

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
from hrms.db import cells
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
    try:
        restore.recover()
    except DomainError as exc:  # e.g. MongoDB down: the frozen tenants wait for the next run (or the CLI)
        failures["recover"] = exc.detail
    full_keys, missing = _full_backups(failures, deadline)
    full_key = full_keys.get(cells.DEFAULT)
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
    report = DailyReport(
        full_key=full_key, schema_backups=done, failures=failures, full_keys=full_keys, full_missing=missing
    )
    logger.info(
        "Daily backup run",
        extra={"full_keys": full_keys, "full_missing": missing, "schemas": done, "failures": len(failures)},
    )
    return report


def failure_name(cell: str) -> str:
    """A cell's full backup in a run's failures: `full` for the default cell (as before cells), `full:<cell>`."""
    return "full" if cell == cells.DEFAULT else f"full:{cell}"


def _full_backups(failures: dict[str, str], deadline: float | None) -> tuple[dict[str, str], list[str]]:
    """A full backup of every configured cell, in parallel; one failing does not stop the others.
    (cell -> key of those taken, the cells without one); each failure is recorded in `failures`."""
    try:
        names = list(cells.configured())
    except Exception as exc:  # the cells' secret unreadable: the control database is still known
        logger.exception("The cells could not be read")
        failures["cells"] = getattr(exc, "detail", None) or type(exc).__name__
        names = [cells.DEFAULT]

    def one(cell: str) -> str:
        return dump.backup_full(cell=cell, reason="scheduled", deadline=deadline).key

    taken: dict[str, str] = {}
    workers = max(1, min(len(names), settings().backup_workers))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backup-full") as pool:
        futures = {pool.submit(one, cell): cell for cell in names}
        for future in as_completed(futures):
            cell, error = futures[future], future.exception()
            if error is None:
                taken[cell] = future.result()
            elif isinstance(error, DomainError):
                failures[failure_name(cell)] = error.detail
            else:  # a failed full backup must not cost the other cells or the tenants theirs
                logger.error("Full backup failed", extra={"cell": cell}, exc_info=error)
                failures[failure_name(cell)] = type(error).__name__
    return dict(sorted(taken.items())), [cell for cell in names if cell not in taken]


def publish_metrics(report: DailyReport, metrics: EphemeralMetrics) -> None:
    """FullBackups (1 or 0), FullBackupCells, SchemaBackups and BackupFailures of one run; no dimension but
    the service.

    FullBackups is 1 when every configured cell's full backup succeeded (with one cell, as before cells: the
    full backup succeeded), else 0; FullBackupCells counts the cells backed up. The BackupMissingAlarm fires
    on a day without a FullBackups of 1 (the run did not happen, or some cell's full backup failed: the cells
    are configuration the alarm's fixed threshold cannot know); BackupFailedAlarm on the function's Errors
    covers every failed run.
    """
    complete = report.every_cell_backed_up
    metrics.add_metric(name="FullBackups", unit=MetricUnit.Count, value=1 if complete else 0)
    metrics.add_metric(name="FullBackupCells", unit=MetricUnit.Count, value=len(report.full_keys))
    metrics.add_metric(name="SchemaBackups", unit=MetricUnit.Count, value=report.schema_backups)
    metrics.add_metric(name="BackupFailures", unit=MetricUnit.Count, value=len(report.failures))
