"""GET /payroll/stats/{month}: the month's payroll figures by department (cached 30 min)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from hrms.http import Response, api, ok
from hrms.payroll import stats
from hrms.payroll.models import MONTH_PATTERN, PayrollStats

app = api(permission="payroll:read")


@app.get("/payroll/stats/<month>")
def get_payroll_stats(
    month: Annotated[str, Path(pattern=MONTH_PATTERN, description="YYYY-MM")],
) -> Response[PayrollStats]:
    return ok(stats.payroll_stats(app.tenant, app.actor, month))


handler = app.handler
