"""BackupFunction (EventBridge, daily): a full backup of every configured cell, then every active tenant's schema.

Fails the invocation if any backup failed (the CloudWatch alarm watches Errors); every other
backup of the run is still taken. Stops starting new ones shortly before the Lambda deadline.
Publishes FullBackups (1 when every cell's full backup succeeded), FullBackupCells, SchemaBackups and
BackupFailures (namespace HRMS) for the alarms and dashboard.
"""

import time
from typing import Any

from hrms.backup import scheduled
from hrms.observability import container_metrics, instrumented

metrics = container_metrics()


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000
    report = scheduled.run_daily(deadline=deadline)
    scheduled.publish_metrics(report, metrics)
    if report.failures:
        raise RuntimeError(f"{len(report.failures)} backup(s) failed: {', '.join(sorted(report.failures))}")
    return report.model_dump(mode="json", by_alias=True)
