"""POST /departments: a department, optionally under a parent and with a head employee."""

from hrms.http import Response, api, created
from hrms.org import service
from hrms.org.models import Department, NewDepartment

app = api(permission="org:write", errors={409: "The code is already taken."})


@app.post("/departments")
def create_department(body: NewDepartment) -> Response[Department]:
    return created(service.create_department(app.tenant, app.actor, body))


handler = app.handler
