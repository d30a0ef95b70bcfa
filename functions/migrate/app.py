"""MigrationFunction: apply public and tenant migrations (invoked on deploy or by the CLI)."""

from dataclasses import asdict
from typing import Any

from hrms.migrations import runner
from hrms.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if (event or {}).get("action") == "status":
        return asdict(runner.status())
    result = runner.up()
    logger.info("Migrations applied", extra=asdict(result))
    if result.failures:
        raise RuntimeError(f"{len(result.failures)} tenant schema(s) failed to migrate; rerun to resume")
    return asdict(result)
