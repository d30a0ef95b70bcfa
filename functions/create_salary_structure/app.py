"""POST /salary-structures: a named set of earning and deduction components around a basic pay."""

from hrms.http import Response, api, created
from hrms.payroll import salaries
from hrms.payroll.models import NewSalaryStructure, SalaryStructure

app = api(permission="payroll:write", errors={409: "The name is already taken."})


@app.post("/salary-structures")
def create_salary_structure(body: NewSalaryStructure) -> Response[SalaryStructure]:
    return created(salaries.create_structure(app.tenant, app.actor, body))


handler = app.handler
