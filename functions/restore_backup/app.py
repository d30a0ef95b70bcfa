"""POST /admin/restores: restore a full or one-tenant backup, live or into a named target (platform admin)."""

from hrms.backup import service
from hrms.backup.models import RestoreRequest, RestoreResult
from hrms.http import Response, api, ok
from hrms.tenancy import PLATFORM_ADMIN

app = api(roles={PLATFORM_ADMIN}, errors={404: "No such backup (`key`), or no such tenant."})


@app.post("/admin/restores")
def restore_backup(body: RestoreRequest) -> Response[RestoreResult]:
    return ok(service.restore_backup(body.key, body.tenant_id, body.target))


handler = app.handler
