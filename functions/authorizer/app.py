"""TOKEN authorizer: verified JWT -> IAM policy with the tenant in the context."""

from typing import Any

from hrms.auth.authorizer import authorize
from hrms.errors import Unauthorized
from hrms.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return authorize(event.get("authorizationToken"), event["methodArn"])
    except Unauthorized as exc:
        logger.info("Token refused", extra={"reason": exc.detail})
        raise Exception("Unauthorized") from exc
