"""PATCH /employees/{employeeId}: change any field, including status and leaving date."""

from uuid import UUID

from hrms.employees import service
from hrms.employees.models import Employee, EmployeePatch
from hrms.http import Response, api, ok

app = api(permission="employees:write")


@app.patch("/employees/<employeeId>")
def update_employee(employeeId: UUID, body: EmployeePatch) -> Response[Employee]:
    return ok(service.update_employee(app.tenant, app.actor, app.scope, employeeId, body))


handler = app.handler
