"""GET /leaves/{leaveId}: one leave, if the caller may see its employee."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.leave import service
from hrms.leave.models import Leave

app = api(permission="leave:read")


@app.get("/leaves/<leaveId>")
def get_leave(leaveId: UUID) -> Response[Leave]:
    return ok(service.get_leave(app.tenant, app.actor, app.scope, leaveId))


handler = app.handler
