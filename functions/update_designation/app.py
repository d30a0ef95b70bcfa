"""PATCH /designations/{designationId}: title, level or department."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import Designation, DesignationPatch

app = api(permission="org:write")


@app.patch("/designations/<designationId>")
def update_designation(designationId: UUID, body: DesignationPatch) -> Response[Designation]:
    return ok(service.update_designation(app.tenant, app.actor, designationId, body))


handler = app.handler
