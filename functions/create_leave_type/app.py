"""POST /leave-types: a new leave type, allocated for the current leave year to everyone employed."""

from hrms.http import Response, api, created
from hrms.leave import service
from hrms.leave.models import LeaveType, NewLeaveType

app = api(permission="leave-types:write", errors={409: "The code is already taken."})


@app.post("/leave-types")
def create_leave_type(body: NewLeaveType) -> Response[LeaveType]:
    return created(service.create_leave_type(app.tenant, app.actor, body))


handler = app.handler
