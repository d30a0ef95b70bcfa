"""GET /feature-flags/{name}/evaluate: is the flag on for the caller (or `userId`)? Stable per user."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from hrms.flags import service
from hrms.flags.models import FLAG_NAME, FlagEvaluation
from hrms.http import Response, api, ok

app = api(permission="flags:read")


@app.get("/feature-flags/<name>/evaluate")
def evaluate_feature_flag(
    name: Annotated[str, Path(pattern=FLAG_NAME)],
    userId: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Response[FlagEvaluation]:
    return ok(service.evaluate_flag(app.tenant, app.actor, name, userId))


handler = app.handler
