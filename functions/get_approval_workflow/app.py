"""GET /approval-workflows/{entityType}: the ordered approval steps of an entity type (leave, payroll)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from hrms.approvals import service
from hrms.approvals.models import Workflow
from hrms.http import Response, api, ok

app = api(permission="settings:read")


@app.get("/approval-workflows/<entityType>")
def get_approval_workflow(entityType: Annotated[str, Path(max_length=40)]) -> Response[Workflow]:
    return ok(service.get_workflow(app.tenant, app.actor, entityType))


handler = app.handler
