"""GET /payroll/runs/{payrollRunId}/payslips/{employeeId}: a short-lived presigned download of one payslip PDF
(one's own always; others by the payslips:read scope)."""

from uuid import UUID

from hrms.http import NO_STORE, Response, api, ok
from hrms.payslips import service
from hrms.payslips.models import PayslipDownload

app = api(
    permission="payslips:read",
    free_for_self=True,
    errors={
        409: "The run is not processed (`runStatus`): only processed runs have payslips; or its PDF is still being"
        " prepared (`payslipStatus: preparing`): ask again shortly."
    },
)


@app.get("/payroll/runs/<payrollRunId>/payslips/<employeeId>")
def get_payslip(payrollRunId: UUID, employeeId: UUID) -> Response[PayslipDownload]:
    return ok(service.get_payslip(app.tenant, app.actor, app.scope, payrollRunId, employeeId), headers=NO_STORE)


handler = app.handler
