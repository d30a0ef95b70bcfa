"""BackupCleanupFunction (EventBridge, daily): delete backups past retention, keeping the newest N
per kind and schema (BACKUP_RETENTION_DAYS, BACKUP_KEEP_LAST); `{"dryRun": true}` only reports."""

from typing import Any

from hrms.backup import cleanup
from hrms.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = cleanup.cleanup(dry_run=bool((event or {}).get("dryRun")))
    return report.model_dump(mode="json", by_alias=True)
