"""GET /designations: every designation of the tenant by title (cached org:{t}:designations)."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import Designation
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="org:read")


@app.get("/designations")
def list_designations(
    departmentId: Annotated[UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Designation]]:
    return ok(service.list_designations(app.tenant, app.actor, departmentId, limit, cursor))


handler = app.handler
