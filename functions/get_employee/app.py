"""GET /employees/{employeeId}: one employee within the caller's scope (PAN/Aadhaar masked)."""

from uuid import UUID

from hrms import snapstart
from hrms.employees import service
from hrms.employees.models import Employee
from hrms.http import Response, api, ok

app = api(permission="employees:read")


@app.get("/employees/<employeeId>")
def get_employee(employeeId: UUID) -> Response[Employee]:
    return ok(service.get_employee(app.tenant, app.actor, app.scope, employeeId))


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
