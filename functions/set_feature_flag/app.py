"""PUT /feature-flags/{name}: create or replace a flag (enabled, rolloutPercent, rules)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from hrms.flags import service
from hrms.flags.models import FLAG_NAME, FeatureFlag, FlagChange
from hrms.http import Response, api, ok

app = api(permission="flags:write")


@app.put("/feature-flags/<name>")
def set_feature_flag(name: Annotated[str, Path(pattern=FLAG_NAME)], body: FlagChange) -> Response[FeatureFlag]:
    return ok(service.set_flag(app.tenant, app.actor, name, body))


handler = app.handler
