"""GET /leave-types: the tenant's leave types (active and inactive), by code."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.leave import service
from hrms.leave.models import LeaveType
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="leave-types:read")


@app.get("/leave-types")
def list_leave_types(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[LeaveType]]:
    return ok(service.list_leave_types(app.tenant, app.actor, limit, cursor))


handler = app.handler
