"""POST /payroll/runs: compute a month's payroll for every employee (draft) and open its approval."""

from hrms.http import Response, api, created
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
