"""GET /employees/{employeeId}/leave-balances: the employee's balance per leave type for a year."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.employees import service
from hrms.employees.models import LeaveBalance
from hrms.http import Response, api, ok

app = api(permission="leave:read")


@app.get("/employees/<employeeId>/leave-balances")
def get_leave_balances(
    employeeId: UUID,
    year: Annotated[int | None, Query(ge=1900, le=2999, description="Defaults to the current year")] = None,
) -> Response[list[LeaveBalance]]:
    return ok(service.leave_balances(app.tenant, app.actor, app.scope, employeeId, year))


handler = app.handler
