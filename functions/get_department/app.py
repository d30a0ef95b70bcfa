"""GET /departments/{departmentId}: one department with its parent, head and description."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import Department

app = api(permission="org:read")


@app.get("/departments/<departmentId>")
def get_department(departmentId: UUID) -> Response[Department]:
    return ok(service.get_department(app.tenant, app.actor, departmentId))


handler = app.handler
