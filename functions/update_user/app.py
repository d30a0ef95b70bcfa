"""PATCH /users/{userId}: role, status (active/disabled) or linked employee."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.users import service
from hrms.users.models import User, UserPatch

app = api(
    permission="users:write",
    errors={409: "The change would leave the tenant without an active admin (`rule`: last-admin)."},
)


@app.patch("/users/<userId>")
def update_user(userId: UUID, body: UserPatch) -> Response[User]:
    return ok(service.update_user(app.tenant, app.actor, userId, body))


handler = app.handler
