"""POST /settings/rollback: make an earlier version's settings current again, as a new version."""

from hrms.http import Response, api, ok
from hrms.settings import service
from hrms.settings.models import SettingsRollback, TenantSettings

app = api(permission="settings:write", errors={404: "No such settings version."})


@app.post("/settings/rollback")
def rollback_settings(body: SettingsRollback) -> Response[TenantSettings]:
    return ok(service.rollback_settings(app.tenant, app.actor, body))


handler = app.handler
