"""LeaveRolloverFunction (EventBridge, 1 January): allocate the new leave year for every active tenant.

The year is the scheduled event's `time` year (so a late retry still allocates the right year);
`{"detail": {"year": 2025}}` overrides it for a manual run. Idempotent: rerunning changes nothing.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms.leave import rollover
from hrms.observability import container_metrics, instrumented, logger

metrics = container_metrics()


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = rollover.rollover(rollover.scheduled_year(event or {}))
    result = {"year": summary.year, "tenants": len(summary.tenants), "allocated": summary.allocated}
    logger.info("Leave year allocated", extra={**result, "failed": summary.failed})
    metrics.add_metric(name="RolloverFailures", unit=MetricUnit.Count, value=len(summary.failed))
    if summary.failed:
        raise RuntimeError(f"{len(summary.failed)} tenant(s) failed the rollover; rerun to complete it")
    return result
