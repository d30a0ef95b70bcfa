"""POST /payroll/runs/{payrollRunId}/approve: decide the run's approval step (the workflow says who may)."""

from uuid import UUID

from hrms.approvals import engine  # noqa: F401 - on every request (hrms.payroll.runs imports it where used)
from hrms.http import Response, api, ok
from hrms.leave import repo  # noqa: F401 - the leave calendar of the final approval, likewise
from hrms.payroll import runs
from hrms.payroll.models import ApproveIn, PayrollRun

app = api(
    permission="payroll:approve",
    errors={409: "The run is not awaiting approval (`runStatus`), or what it was computed from changed since."},
)


@app.post("/payroll/runs/<payrollRunId>/approve")
def approve_payroll(payrollRunId: UUID, body: ApproveIn) -> Response[PayrollRun]:
    return ok(runs.approve(app.tenant, app.actor, payrollRunId, body.comment))


handler = app.handler
