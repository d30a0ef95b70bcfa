"""MigrationFunction: apply public and tenant migrations on every cell in parallel (invoked on deploy or by the
CLI); a cell that fails is named, the others keep their new versions."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms.migrations import runner
from hrms.observability import container_metrics, instrumented, logger

metrics = container_metrics()


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if (event or {}).get("action") == "status":
        statuses = runner.status_cells()
        behind = sum(s.tenants_behind for s in statuses.values() if isinstance(s, runner.MigrationStatus))
        metrics.add_metric(name="TenantSchemasBehind", unit=MetricUnit.Count, value=behind)
        return {cell: s if isinstance(s, str) else asdict(s) for cell, s in statuses.items()}
    result = runner.up_cells()
    logger.info("Migrations applied", extra=asdict(result))
    metrics.add_metric(name="MigrationFailures", unit=MetricUnit.Count, value=len(result.failures))
    if result.failures:
        raise RuntimeError(f"failed to migrate (rerun to resume): {', '.join(sorted(result.failures))}")
    return asdict(result)
