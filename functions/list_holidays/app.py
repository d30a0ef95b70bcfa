"""GET /holidays: the tenant's holidays of one year (default: the current year), by date."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import Holiday
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="org:read")


@app.get("/holidays")
def list_holidays(
    year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Holiday]]:
    return ok(service.list_holidays(app.tenant, app.actor, year, limit, cursor))


handler = app.handler
