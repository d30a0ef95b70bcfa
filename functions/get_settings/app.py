"""GET /settings: the tenant's current settings and their version."""

from hrms.http import Response, api, ok
from hrms.settings import service
from hrms.settings.models import TenantSettings

app = api(permission="settings:read")


@app.get("/settings")
def get_settings() -> Response[TenantSettings]:
    return ok(service.get_settings(app.tenant))


handler = app.handler
