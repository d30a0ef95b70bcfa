"""POST /approvals/{approvalId}/decision: the assignee (or an admin) approves or rejects a task."""

from uuid import UUID

from hrms.approvals import engine, service  # noqa: F401 - engine: on every request (service imports it on use)
from hrms.approvals.models import Decision, DecisionIn
from hrms.http import Response, api, ok
from hrms.tenancy import TENANT_ROLES

app = api(
    roles=TENANT_ROLES, errors={409: "The approval was already decided (`approvalId`), or its subject changed since."}
)


@app.post("/approvals/<approvalId>/decision")
def decide_approval(approvalId: UUID, body: DecisionIn) -> Response[Decision]:
    return ok(service.decide_approval(app.tenant, app.actor, approvalId, body))


handler = app.handler
