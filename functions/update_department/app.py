"""PATCH /departments/{departmentId}: rename, recode, move in the tree (no cycles) or change the head."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import Department, DepartmentPatch

app = api(permission="org:write")


@app.patch("/departments/<departmentId>")
def update_department(departmentId: UUID, body: DepartmentPatch) -> Response[Department]:
    return ok(service.update_department(app.tenant, app.actor, departmentId, body))


handler = app.handler
