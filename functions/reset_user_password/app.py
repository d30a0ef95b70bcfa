"""POST /users/{userId}/password-reset: a new temporary password for the user; their earlier tokens stop working."""

from uuid import UUID

from hrms.auth import passwords  # noqa: F401 - hashes on every request: argon2 at init, not on the first request
from hrms.http import NO_STORE, Response, api, ok
from hrms.users import service
from hrms.users.models import TemporaryPassword

app = api(permission="users:write")


@app.post("/users/<userId>/password-reset")
def reset_user_password(userId: UUID) -> Response[TemporaryPassword]:
    return ok(service.reset_password(app.tenant, app.actor, userId), headers=NO_STORE)


handler = app.handler
