"""POST /exports: record an export job and its outbox event; the ExportWorker writes the file (202)."""

from hrms.exports import service
from hrms.exports.models import ExportAccepted, NewExport
from hrms.http import Response, api, ok
from hrms.outbox import emit  # noqa: F401 - on every request (hrms.exports.service imports it where used)

app = api(permission="exports:write")


@app.post("/exports")
def create_export(body: NewExport) -> Response[ExportAccepted]:
    return ok(service.create_export(app.tenant, app.actor, body), 202)


handler = app.handler
