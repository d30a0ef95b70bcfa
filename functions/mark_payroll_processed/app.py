"""POST /payroll/runs/{payrollRunId}/process: mark an approved run as paid out (final)."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.outbox import PAYROLL_PROCESSED  # noqa: F401 - on every request (hrms.payroll.runs imports it where used)
from hrms.payroll import runs
from hrms.payroll.models import PayrollRun

app = api(permission="payroll:write", errors={409: "Only an approved run can be processed (`runStatus`)."})


@app.post("/payroll/runs/<payrollRunId>/process")
def mark_payroll_processed(payrollRunId: UUID) -> Response[PayrollRun]:
    return ok(runs.mark_processed(app.tenant, app.actor, payrollRunId))


handler = app.handler
