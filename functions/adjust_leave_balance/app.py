"""POST /employees/{employeeId}/leave-balances/adjustments: an opening balance or a correction of one
leave balance, in half-day steps, with a reason (never one's own; never below what is used or pending)."""

from uuid import UUID

from hrms.http import Response, api, created
from hrms.leave import balances
from hrms.leave.models import LeaveBalance, NewAdjustment

app = api(permission="leave-balances:adjust")


@app.post("/employees/<employeeId>/leave-balances/adjustments")
def adjust_leave_balance(employeeId: UUID, body: NewAdjustment) -> Response[LeaveBalance]:
    return created(balances.adjust(app.tenant, app.actor, app.scope, employeeId, body))


handler = app.handler
