"""GET /dashboards/employees/{employeeId}: balances, pending requests and payslips of an employee in scope."""

from uuid import UUID

from hrms import snapstart
from hrms.dashboards import service
from hrms.dashboards.models import EmployeeDashboard
from hrms.http import Response, api, ok

app = api(permission="dashboards:read")


@app.get("/dashboards/employees/<employeeId>")
def get_employee_dashboard(employeeId: UUID) -> Response[EmployeeDashboard]:
    return ok(service.employee_dashboard(app.tenant, app.actor, app.scope, employeeId))


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
