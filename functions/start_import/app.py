"""POST /imports/{importId}/start: queue the uploaded file for the ImportWorker (202); once only (409)."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.imports import service
from hrms.imports.models import Started, StartImport
from hrms.outbox import emit  # noqa: F401 - on every request (hrms.imports.service imports it where used)

app = api(
    permission="imports:write",
    errors={409: "The import was already started (`importStatus`, `result`), or its file is not uploaded yet."},
)


@app.post("/imports/<importId>/start")
def start_import(importId: UUID, body: StartImport | None = None) -> Response[Started]:
    return ok(service.start_import(app.tenant, app.actor, importId, body or StartImport()), 202)


handler = app.handler
