"""GET /payroll/runs/{payrollRunId}: one payroll run with its totals."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.payroll import runs
from hrms.payroll.models import PayrollRun

app = api(permission="payroll:read")


@app.get("/payroll/runs/<payrollRunId>")
def get_payroll_run(payrollRunId: UUID) -> Response[PayrollRun]:
    return ok(runs.get_run(app.tenant, app.actor, payrollRunId))


handler = app.handler
