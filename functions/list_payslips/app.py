"""GET /employees/{employeeId}/payslips: the employee's payslips of processed runs, newest first, each with a
short-lived presigned PDF download (one's own always; others by the payslips:read scope)."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import NO_STORE, Response, api, ok
from hrms.payslips import service
from hrms.payslips.models import PayslipSummary

app = api(permission="payslips:read", free_for_self=True)


@app.get("/employees/<employeeId>/payslips")
def list_payslips(
    employeeId: UUID,
    year: Annotated[int | None, Query(ge=1900, le=2999, description="Only the payslips of this calendar year")] = None,
) -> Response[list[PayslipSummary]]:
    return ok(service.list_payslips(app.tenant, app.actor, app.scope, employeeId, year), headers=NO_STORE)


handler = app.handler
