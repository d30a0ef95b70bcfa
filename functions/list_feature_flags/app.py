"""GET /feature-flags: the tenant's flags with their platform switches."""

from hrms.flags import service
from hrms.flags.models import FeatureFlag
from hrms.http import Response, api, ok
from hrms.pagination import Page

app = api(permission="flags:read")


@app.get("/feature-flags")
def list_feature_flags() -> Response[Page[FeatureFlag]]:
    return ok(service.list_flags(app.tenant))


handler = app.handler
