"""PATCH /salary-structures/{salaryStructureId}: rename, change components (for new assignments), deactivate."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.payroll import salaries
from hrms.payroll.models import SalaryStructure, SalaryStructurePatch

app = api(permission="payroll:write")


@app.patch("/salary-structures/<salaryStructureId>")
def update_salary_structure(salaryStructureId: UUID, body: SalaryStructurePatch) -> Response[SalaryStructure]:
    return ok(salaries.update_structure(app.tenant, app.actor, salaryStructureId, body))


handler = app.handler
