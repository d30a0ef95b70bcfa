"""GET /salary-structures/{salaryStructureId}: one salary structure."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.payroll import salaries
from hrms.payroll.models import SalaryStructure

app = api(permission="payroll:read")


@app.get("/salary-structures/<salaryStructureId>")
def get_salary_structure(salaryStructureId: UUID) -> Response[SalaryStructure]:
    return ok(salaries.get_structure(app.tenant, app.actor, salaryStructureId))


handler = app.handler
