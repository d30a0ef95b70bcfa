"""POST /leaves: request leave (for oneself by default): days reserved as pending, first approval opened."""

from hrms.approvals import engine  # noqa: F401 - on every request (hrms.leave.service imports it where used)
from hrms.http import Response, api, created
from hrms.leave import service
from hrms.leave.models import Leave, LeaveRequest

app = api(
    permission="leave:request",
    errors={
        404: "No such employee (`employeeId`); an unknown leave type is a 422.",
        409: "The employee already has pending or approved leave on some of these dates (`overlapping`).",
    },
)


@app.post("/leaves")
def request_leave(body: LeaveRequest) -> Response[Leave]:
    return created(service.request_leave(app.tenant, app.actor, app.scope, body))


handler = app.handler
