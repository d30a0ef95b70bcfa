"""PUT /settings: replace the settings as a new version; 409 when `expectedVersion` is stale."""

from hrms.http import Response, api, ok
from hrms.settings import service
from hrms.settings.models import SettingsUpdate, TenantSettings

app = api(
    permission="settings:write",
    errors={409: "`expectedVersion` is not the current version (`currentVersion`): reload and retry."},
)


@app.put("/settings")
def update_settings(body: SettingsUpdate) -> Response[TenantSettings]:
    return ok(service.update_settings(app.tenant, app.actor, body))


handler = app.handler
