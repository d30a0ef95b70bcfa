"""IdempotencyPurgeFunction (EventBridge, hourly): delete expired Idempotency-Key rows, public and per
tenant, oldest expiry first in bounded batches (`hrms.http.idempotency.purge_expired`). Stops starting
batches 20 s before the Lambda deadline; the next run resumes. A schema that fails is counted in
IdempotencyPurgeFailures and retried by the next run, not an error of this one.
"""

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms.http import idempotency
from hrms.observability import container_metrics, instrumented, logger

metrics = container_metrics()
MARGIN_S = 20


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - MARGIN_S
    summary = idempotency.purge_expired(deadline=deadline)
    logger.info("Expired idempotency keys purged", extra=summary.counts())
    metrics.add_metric(name="IdempotencyKeysPurged", unit=MetricUnit.Count, value=summary.purged)
    metrics.add_metric(name="IdempotencyPurgeFailures", unit=MetricUnit.Count, value=summary.failed)
    return summary.counts()
