"""PATCH /leave-types/{leaveTypeId}: change a leave type (quota changes apply from the next allocation)."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.leave import service
from hrms.leave.models import LeaveType, LeaveTypePatch

app = api(permission="leave-types:write")


@app.patch("/leave-types/<leaveTypeId>")
def update_leave_type(leaveTypeId: UUID, body: LeaveTypePatch) -> Response[LeaveType]:
    return ok(service.update_leave_type(app.tenant, app.actor, leaveTypeId, body))


handler = app.handler
