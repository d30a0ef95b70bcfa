"""POST /designations: a job title, optionally with a level and a department."""

from hrms.http import Response, api, created
from hrms.org import service
from hrms.org.models import Designation, NewDesignation

app = api(permission="org:write")


@app.post("/designations")
def create_designation(body: NewDesignation) -> Response[Designation]:
    return created(service.create_designation(app.tenant, app.actor, body))


handler = app.handler
