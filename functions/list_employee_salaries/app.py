"""GET /employees/{employeeId}/salaries: salary history, newest first (one's own always; others by scope)."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.payroll import salaries
from hrms.payroll.models import EmployeeSalary

app = api(permission="salaries:read", free_for_self=True)


@app.get("/employees/<employeeId>/salaries")
def list_employee_salaries(
    employeeId: UUID,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[EmployeeSalary]]:
    return ok(salaries.salary_history(app.tenant, app.actor, app.scope, employeeId, limit, cursor))


handler = app.handler
