"""DELETE /designations/{designationId}: refused (409) while employees hold it."""

from uuid import UUID

from hrms.http import Response, api, no_content
from hrms.org import service

app = api(permission="org:write", errors={409: "Employees still hold the designation (`usage`)."})


@app.delete("/designations/<designationId>")
def delete_designation(designationId: UUID) -> Response[None]:
    service.delete_designation(app.tenant, app.actor, designationId)
    return no_content()


handler = app.handler
