"""POST /payroll/runs: compute a month's payroll for every employee (draft) and open its approval."""

from hrms.approvals import engine  # noqa: F401 - on every request (hrms.payroll.runs imports it where used)
from hrms.http import Response, api, created
from hrms.leave import repo  # noqa: F401 - the leave calendar, likewise
from hrms.payroll import runs
from hrms.payroll.models import NewPayrollRun, PayrollRun

app = api(
    permission="payroll:write",
    errors={409: "The month already has a payroll run: `payrollRunId` and `runStatus` name it."},
)


@app.post("/payroll/runs")
def process_payroll(body: NewPayrollRun) -> Response[PayrollRun]:
    return created(runs.process_payroll(app.tenant, app.actor, body.month))


handler = app.handler
