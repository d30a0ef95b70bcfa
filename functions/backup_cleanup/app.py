"""BackupCleanupFunction (EventBridge, daily): delete backups past retention, keeping the newest N
per kind and schema (BACKUP_RETENTION_DAYS, BACKUP_KEEP_LAST); `{"dryRun": true}` only reports."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms.backup import cleanup
from hrms.observability import container_metrics, instrumented

metrics = container_metrics()


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = cleanup.cleanup(dry_run=bool((event or {}).get("dryRun")))
    expired = 0 if report.dry_run else len(report.expired)
    metrics.add_metric(name="BackupsExpired", unit=MetricUnit.Count, value=expired)
    return report.model_dump(mode="json", by_alias=True)
