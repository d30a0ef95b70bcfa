"""CachePreloadFunction (EventBridge, hourly): warm the org caches of every active tenant."""

from typing import Any

from hrms.observability import logger
from hrms.org import service


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    summary = service.preload_org_caches()
    logger.info("Org caches warmed", extra=summary)
    return summary
