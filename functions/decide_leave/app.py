"""POST /leaves/{leaveId}/decision: approve or reject the leave's pending approval task."""

from uuid import UUID

from hrms.approvals import engine  # noqa: F401 - on every request (hrms.leave.service imports it where used)
from hrms.approvals.models import Decision, DecisionIn
from hrms.http import Response, api, ok
from hrms.leave import service

app = api(permission="leave:approve", errors={409: "The leave has no pending approval (it was decided or cancelled)."})


@app.post("/leaves/<leaveId>/decision")
def decide_leave(leaveId: UUID, body: DecisionIn) -> Response[Decision]:
    return ok(service.decide_leave(app.tenant, app.actor, app.scope, leaveId, body))


handler = app.handler
