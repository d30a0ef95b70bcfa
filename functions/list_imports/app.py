"""GET /imports: the tenant's imports, newest first."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.imports import service
from hrms.imports.models import ImportJob
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="imports:write")


@app.get("/imports")
def list_imports(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[ImportJob]]:
    return ok(service.list_imports(app.tenant, app.actor, limit, cursor))


handler = app.handler
