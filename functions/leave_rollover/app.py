"""LeaveRolloverFunction (EventBridge, 1 January): allocate the new leave year for every active tenant.

The year is the scheduled event's `time` year (so a late retry still allocates the right year);
`{"detail": {"year": 2025}}` overrides it for a manual run. Idempotent: rerunning changes nothing.
"""

from typing import Any

from hrms.leave import rollover
from hrms.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = rollover.rollover(rollover.scheduled_year(event or {}))
    result = {"year": summary.year, "tenants": len(summary.tenants), "allocated": summary.allocated}
    logger.info("Leave year allocated", extra={**result, "failed": summary.failed})
    if summary.failed:
        raise RuntimeError(f"{len(summary.failed)} tenant(s) failed the rollover; rerun to complete it")
    return result
