"""DELETE /employees/{employeeId}: terminate (status terminated, leaving date default today); never a hard delete."""

from uuid import UUID

from hrms.employees import service
from hrms.employees.models import Employee, Termination
from hrms.http import Response, api, ok

app = api(
    permission="employees:write",
    errors={409: "Terminating would leave the tenant without an active admin (`rule`: last-admin)."},
)


@app.delete("/employees/<employeeId>")
def terminate_employee(employeeId: UUID, body: Termination | None = None) -> Response[Employee]:
    leaving = body.date_of_leaving if body else None
    return ok(service.terminate_employee(app.tenant, app.actor, app.scope, employeeId, leaving))


handler = app.handler
