"""POST /imports: record an import (employees, salaries or leave-balances) and return a presigned PUT
bound to the file's declared type and size."""

from hrms.http import Response, api, created
from hrms.imports import service
from hrms.imports.models import ImportUpload, NewImport

app = api(permission="imports:write")


@app.post("/imports")
def create_import(body: NewImport) -> Response[ImportUpload]:
    return created(service.create_import(app.tenant, app.actor, body))


handler = app.handler
