"""OutboxRelayFunction (EventBridge, every minute): publish the outbox events that the after-commit
publish left behind, for the tenants listed as pending, and purge published rows past retention
(OUTBOX_RETENTION_DAYS). Stops starting new work 25 s before the Lambda deadline (room for one slow SQS
call: 2 attempts x (2 s connect + 10 s read)); the next run resumes.
Publishing failures are not errors of the run (the rows wait; OutboxOldestPendingSeconds grows).
It also finishes the audits of MongoDB writes whose request died before delivering them
(`hrms.db.mongo_audit.deliver_pending`); with MongoDB down that part waits for the next run.
"""

import time
from typing import Any

from hrms.db import mongo_audit
from hrms.errors import DependencyDown
from hrms.observability import container_metrics, instrumented, logger
from hrms.outbox import relay

metrics = container_metrics()
MARGIN_S = 25


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - MARGIN_S
    summary = relay.sweep(deadline=deadline)
    relay.publish_metrics(summary, metrics)
    counts = {**summary.counts(), "auditsDelivered": _deliver_audits()}
    logger.info("Outbox swept", extra=counts)
    return counts


def _deliver_audits() -> int | None:
    try:
        return mongo_audit.deliver_pending()
    except DependencyDown:
        logger.warning("Document store unavailable; pending audits wait for the next run")
        return None
