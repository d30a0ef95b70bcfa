"""POST /users/{userId}/password-reset: a new temporary password for the user; their earlier tokens stop working.

Admins only: the password is returned to the caller. Anyone else is refused (`rule`: admins-only); an
account's owner can always ask for a reset link themself (POST /auth/forgot-password)."""

from uuid import UUID

from hrms.auth import passwords  # noqa: F401 - hashes on every request: argon2 at init, not on the first request
from hrms.http import NO_STORE, Response, api, ok
from hrms.users import service
from hrms.users.models import TemporaryPassword

app = api(
    permission="users:write",
    errors={
        403: "Not allowed: the permission (`permission`), the caller's token, tenant or temporary password"
        " to change first, or a caller who is not an admin (`rule`: admins-only)."
    },
)


@app.post("/users/<userId>/password-reset")
def reset_user_password(userId: UUID) -> Response[TemporaryPassword]:
    return ok(service.reset_password(app.tenant, app.actor, userId), headers=NO_STORE)


handler = app.handler
