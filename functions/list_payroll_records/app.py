"""GET /payroll/runs/{payrollRunId}/records: the run's per-employee lines by employee code."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.payroll import runs
from hrms.payroll.models import PayrollRecord

app = api(permission="payroll:read")


@app.get("/payroll/runs/<payrollRunId>/records")
def list_payroll_records(
    payrollRunId: UUID,
    department_id: Annotated[UUID | None, Query(alias="departmentId")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[PayrollRecord]]:
    return ok(runs.list_records(app.tenant, app.actor, payrollRunId, department_id, limit, cursor))


handler = app.handler
