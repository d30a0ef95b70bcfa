"""LeaveRolloverFunction (EventBridge, hourly): open each tenant's new leave year when it begins in
the tenant's time zone (`hrms.leave.rollover`).

The instant is the scheduled event's `time` (so a late retry decides as the tick would have);
`{"detail": {"at": "2027-04-01T00:30:00+05:30"}}` overrides it for a manual run. Idempotent and
resumable: rerunning changes nothing, and a tenant that failed is retried by the next tick.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms.leave import rollover
from hrms.observability import container_metrics, instrumented, logger

metrics = container_metrics()


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = rollover.open_due(rollover.scheduled_time(event or {}))
    opened = {t.slug: t.years for t in summary.tenants if t.years}
    result = {"at": summary.at.isoformat(), "tenants": len(summary.tenants), "opened": opened}
    logger.info("Leave years opened", extra={**result, "allocated": summary.allocated, "failed": summary.failed})
    metrics.add_metric(name="RolloverFailures", unit=MetricUnit.Count, value=len(summary.failed))
    if summary.failed:
        raise RuntimeError(f"{len(summary.failed)} tenant(s) failed the rollover; the next run retries them")
    return result
