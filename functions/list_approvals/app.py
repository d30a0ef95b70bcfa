"""GET /approvals: approval tasks; `mine=true` lists those waiting for the caller's decision."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms import snapstart
from hrms.approvals import service
from hrms.approvals.models import Approval, TaskStatus
from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.tenancy import TENANT_ROLES

app = api(roles=TENANT_ROLES)


@app.get("/approvals")
def list_approvals(
    mine: Annotated[bool, Query(description="Only tasks the caller may decide")] = False,
    status: Annotated[TaskStatus, Query()] = "pending",
    entity_type: Annotated[str | None, Query(alias="entityType", max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response[Page[Approval]]:
    listed = service.list_approvals(
        app.tenant, app.actor, mine=mine, status=status, entity_type=entity_type, limit=limit, cursor=cursor
    )
    return ok(listed)


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
