"""GET /employees: the employees the caller may see, filtered, in keyset pages (PAN/Aadhaar masked)."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms import snapstart
from hrms.employees import service
from hrms.employees.models import Employee, EmployeeStatus
from hrms.employees.repo import Filters
from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="employees:read")


@app.get("/employees")
def list_employees(
    department_id: Annotated[UUID | None, Query(alias="departmentId")] = None,
    designation_id: Annotated[UUID | None, Query(alias="designationId")] = None,
    manager_id: Annotated[UUID | None, Query(alias="managerId")] = None,
    status: Annotated[EmployeeStatus | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Name or email contains")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[Employee]]:
    filters = Filters(department_id, designation_id, manager_id, status, q)
    return ok(service.list_employees(app.tenant, app.actor, app.scope, filters, limit, cursor))


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
