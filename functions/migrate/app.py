"""MigrationFunction: apply public and tenant migrations (invoked on deploy or by the CLI)."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms.migrations import runner
from hrms.observability import container_metrics, instrumented, logger

metrics = container_metrics()


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if (event or {}).get("action") == "status":
        status = runner.status()
        metrics.add_metric(name="TenantSchemasBehind", unit=MetricUnit.Count, value=status.tenants_behind)
        return asdict(status)
    result = runner.up()
    logger.info("Migrations applied", extra=asdict(result))
    metrics.add_metric(name="MigrationFailures", unit=MetricUnit.Count, value=len(result.failures))
    if result.failures:
        raise RuntimeError(f"{len(result.failures)} tenant schema(s) failed to migrate; rerun to resume")
    return asdict(result)
