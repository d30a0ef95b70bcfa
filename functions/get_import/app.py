"""GET /imports/{importId}: an import's state, counts, first 100 row errors and its error report."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.imports import service
from hrms.imports.models import ImportJob

app = api(permission="imports:write")


@app.get("/imports/<importId>")
def get_import(importId: UUID) -> Response[ImportJob]:
    return ok(service.get_import(app.tenant, app.actor, importId))


handler = app.handler
