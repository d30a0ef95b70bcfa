"""GET /designations/{designationId}: one designation with its level and department."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import Designation

app = api(permission="org:read")


@app.get("/designations/<designationId>")
def get_designation(designationId: UUID) -> Response[Designation]:
    return ok(service.get_designation(app.tenant, app.actor, designationId))


handler = app.handler
