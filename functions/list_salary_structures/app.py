"""GET /salary-structures: salary structures by name."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.payroll import salaries
from hrms.payroll.models import SalaryStructure

app = api(permission="payroll:read")


@app.get("/salary-structures")
def list_salary_structures(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[SalaryStructure]]:
    return ok(salaries.list_structures(app.tenant, app.actor, limit, cursor))


handler = app.handler
