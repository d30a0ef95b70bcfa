"""GET /users/{userId}: one user account (role, status, employee record, last sign-in)."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.users import service
from hrms.users.models import User

app = api(permission="users:read")


@app.get("/users/<userId>")
def get_user(userId: UUID) -> Response[User]:
    return ok(service.get_user(app.tenant, app.actor, userId))


handler = app.handler
