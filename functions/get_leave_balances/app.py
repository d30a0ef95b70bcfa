"""GET /employees/{employeeId}/leave-balances: the employee's balance per leave type for a leave year, each
with its adjustments (opening balances and corrections)."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms import snapstart
from hrms.http import Response, api, ok
from hrms.leave import balances
from hrms.leave.models import LeaveBalance

app = api(permission="leave:read")


@app.get("/employees/<employeeId>/leave-balances")
def get_leave_balances(
    employeeId: UUID,
    year: Annotated[int | None, Query(ge=1900, le=2999, description="Defaults to the current leave year")] = None,
) -> Response[list[LeaveBalance]]:
    return ok(balances.leave_balances(app.tenant, app.actor, app.scope, employeeId, year))


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
