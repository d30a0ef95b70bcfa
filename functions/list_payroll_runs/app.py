"""GET /payroll/runs: payroll runs, newest month first."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.payroll import runs
from hrms.payroll.models import MONTH_PATTERN, PayrollRun, RunStatus

app = api(permission="payroll:read")


@app.get("/payroll/runs")
def list_payroll_runs(
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")] = None,
    status: Annotated[RunStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[PayrollRun]]:
    return ok(runs.list_runs(app.tenant, app.actor, month, status, limit, cursor))


handler = app.handler
