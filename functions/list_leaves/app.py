"""GET /leaves: the leaves the caller may see (own, reporting line, or all), filtered, newest first."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms import snapstart
from hrms.http import Response, api, ok
from hrms.leave import service
from hrms.leave.models import Day, Leave, LeaveStatus
from hrms.leave.repo import Filters
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="leave:read")


@app.get("/leaves")
def list_leaves(
    employee_id: Annotated[UUID | None, Query(alias="employeeId")] = None,
    status: Annotated[LeaveStatus | None, Query()] = None,
    start: Annotated[Day | None, Query(alias="from", description="Leaves ending on or after this date")] = None,
    end: Annotated[Day | None, Query(alias="to", description="Leaves starting on or before this date")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[Leave]]:
    filters = Filters(employee_id=employee_id, status=status, start=start, end=end)
    return ok(service.list_leaves(app.tenant, app.actor, app.scope, filters, limit, cursor))


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
