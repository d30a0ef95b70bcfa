"""POST /users: a new user; for an admin, without a password one temporary password is returned once.

A caller who is not an admin creates only an account linked to an employee (`employeeId`), under that
employee's email, without a password: nobody learns it, and the owner is mailed a link to choose it."""

from hrms.auth import passwords  # noqa: F401 - hashes on every request: argon2 at init, not on the first request
from hrms.http import Response, api, created
from hrms.users import create
from hrms.users.models import CreatedUser, NewUser

app = api(
    permission="users:write",
    errors={
        403: "Not allowed: the permission (`permission`), the caller's token, tenant or temporary password"
        " to change first, or a rule of accounts (`rule`): `admins-only` (an admin account), `grant-ceiling`"
        " (a role beyond the caller's), `account-owner` (a caller who is not an admin gave a password, no"
        " `employeeId`, or an email that is not the employee's; `errors` names the fields).",
        409: "A user with this email already exists, or the employee already has an active user account"
        " (`rule`: employee-has-user).",
    },
)


@app.post("/users")
def create_user(body: NewUser) -> Response[CreatedUser]:
    return created(create.create_user(app.tenant, app.actor, body))


handler = app.handler
