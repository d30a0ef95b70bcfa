"""GET /tenants: tenants with employee counts and last activity, keyset-paginated by slug."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.tenancy import PLATFORM_ADMIN
from hrms.tenants import service
from hrms.tenants.models import TenantSummary

app = api(roles={PLATFORM_ADMIN})


@app.get("/tenants")
def list_tenants(
    status: Annotated[Literal["active", "suspended"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[TenantSummary]]:
    return ok(service.list_tenants(status, limit, cursor))


handler = app.handler
