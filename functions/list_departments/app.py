"""GET /departments: every department of the tenant by name (cached org:{t}:departments)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import Department
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="org:read")


@app.get("/departments")
def list_departments(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Department]]:
    return ok(service.list_departments(app.tenant, app.actor, limit, cursor))


handler = app.handler
