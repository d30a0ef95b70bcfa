"""POST /leaves/{leaveId}/cancel: withdraw a pending leave or give back an approved one (days released)."""

from uuid import UUID

from hrms.approvals import engine  # noqa: F401 - on every request (hrms.leave.service imports it where used)
from hrms.http import Response, api, ok
from hrms.leave import service
from hrms.leave.models import Leave

app = api(
    permission="leave:request",
    errors={409: "The leave is already cancelled or rejected, or has started (HR cancels it then)."},
)


@app.post("/leaves/<leaveId>/cancel")
def cancel_leave(leaveId: UUID) -> Response[Leave]:
    return ok(service.cancel_leave(app.tenant, app.actor, app.scope, leaveId))


handler = app.handler
