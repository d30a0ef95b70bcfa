"""CachePreloadFunction (EventBridge, hourly): warm the org caches of every active tenant."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms.observability import container_metrics, instrumented, logger
from hrms.org import service

metrics = container_metrics()


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    summary = service.preload_org_caches()
    logger.info("Org caches warmed", extra=summary)
    metrics.add_metric(name="CachePreloadFailures", unit=MetricUnit.Count, value=summary["failed"])
    return summary
