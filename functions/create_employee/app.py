"""POST /employees: hire an employee (code generated, leave balances initialised pro rata)."""

from hrms.employees import service
from hrms.employees.models import Employee, NewEmployee
from hrms.http import Response, api, created

app = api(permission="employees:write", errors={409: "The email (or another unique field) is already taken."})


@app.post("/employees")
def create_employee(body: NewEmployee) -> Response[Employee]:
    return created(service.create_employee(app.tenant, app.actor, app.scope, body))


handler = app.handler
