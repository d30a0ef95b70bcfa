"""GET /exports/{exportId}: an export job's status, with a short-lived presigned download once it succeeded."""

from uuid import UUID

from hrms.exports import service
from hrms.exports.models import Export
from hrms.http import NO_STORE, Response, api, ok

app = api(permission="exports:write")


@app.get("/exports/<exportId>")
def get_export(exportId: UUID) -> Response[Export]:
    return ok(service.get_export(app.tenant, app.actor, exportId), headers=NO_STORE)


handler = app.handler
