"""PUT /approval-workflows/{entityType}: replace the steps (open tasks keep theirs; later steps follow)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from hrms.approvals import service
from hrms.approvals.models import Workflow, WorkflowIn
from hrms.http import Response, api, ok

app = api(permission="settings:write")


@app.put("/approval-workflows/<entityType>")
def set_approval_workflow(entityType: Annotated[str, Path(max_length=40)], body: WorkflowIn) -> Response[Workflow]:
    return ok(service.set_workflow(app.tenant, app.actor, entityType, body))


handler = app.handler
