"""DELETE /departments/{departmentId}: refused (409) while it has employees, sub-departments or designations."""

from uuid import UUID

from hrms.http import Response, api, no_content
from hrms.org import service

app = api(
    permission="org:write",
    errors={409: "The department still has employees, sub-departments or designations (`usage`)."},
)


@app.delete("/departments/<departmentId>")
def delete_department(departmentId: UUID) -> Response[None]:
    service.delete_department(app.tenant, app.actor, departmentId)
    return no_content()


handler = app.handler
