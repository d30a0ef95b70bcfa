"""TOKEN authorizer: verified JWT -> IAM policy with the tenant in the context."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hrms import snapstart
from hrms.auth.authorizer import authorize
from hrms.errors import Unauthorized
from hrms.observability import container_metrics, instrumented, logger

metrics = container_metrics()
snapstart.prepare()  # a SnapStart function (template.yaml): its runtime hooks


@instrumented(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        policy = authorize(event.get("authorizationToken"), event["methodArn"])
    except Unauthorized as exc:
        logger.info("Token refused", extra={"reason": exc.detail})
        metrics.add_metric(name="TokensRefused", unit=MetricUnit.Count, value=1)
        raise Exception("Unauthorized") from exc
    metrics.add_metric(name="TokensRefused", unit=MetricUnit.Count, value=0)
    return policy
