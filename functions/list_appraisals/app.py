"""GET /appraisals: appraisals of the employees in the caller's scope, newest first."""

from typing import Annotated, Literal
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.appraisals import service
from hrms.appraisals.models import Appraisal
from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="appraisals:read")


@app.get("/appraisals")
def list_appraisals(
    employeeId: UUID | None = None,
    status: Literal["draft", "submitted", "reviewed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Appraisal]]:
    page = service.list_appraisals(
        app.tenant, app.actor, app.scope, employee_id=employeeId, status=status, limit=limit, cursor=cursor
    )
    return ok(page)


handler = app.handler
