"""POST /employees/{employeeId}/salaries: a salary or revision from a date, on a salary structure."""

from uuid import UUID

from hrms.http import Response, api, created
from hrms.payroll import salaries
from hrms.payroll.models import EmployeeSalary, NewEmployeeSalary

app = api(
    permission="payroll:write",
    errors={409: "Payroll is approved or processed for a month this revision would change (`settledMonth`)."},
)


@app.post("/employees/<employeeId>/salaries")
def assign_employee_salary(employeeId: UUID, body: NewEmployeeSalary) -> Response[EmployeeSalary]:
    return created(salaries.assign_salary(app.tenant, app.actor, employeeId, body))


handler = app.handler
