"""PATCH /users/{userId}: role, status (active/disabled) or linked employee."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.users import service
from hrms.users.models import User, UserPatch

app = api(
    permission="users:write",
    errors={
        403: "Not allowed: the permission (`permission`), the caller's token, tenant or temporary password"
        " to change first, or a rule of accounts (`rule`): `admins-only` (an admin account, or making one),"
        " `grant-ceiling` (a role beyond the caller's), `account-owner` (a caller who is not an admin unlinks"
        " the account or links it to an employee whose email is not the account's).",
        409: "The change would leave the tenant without an active admin (`rule`: last-admin), or the employee"
        " already has an active user account (`rule`: employee-has-user).",
    },
)


@app.patch("/users/<userId>")
def update_user(userId: UUID, body: UserPatch) -> Response[User]:
    return ok(service.update_user(app.tenant, app.actor, userId, body))


handler = app.handler
