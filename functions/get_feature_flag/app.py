"""GET /feature-flags/{name}: one flag of the tenant."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from hrms.flags import service
from hrms.flags.models import FLAG_NAME, FeatureFlag
from hrms.http import Response, api, ok

app = api(permission="flags:read")


@app.get("/feature-flags/<name>")
def get_feature_flag(name: Annotated[str, Path(pattern=FLAG_NAME)]) -> Response[FeatureFlag]:
    return ok(service.get_flag(app.tenant, name))


handler = app.handler
