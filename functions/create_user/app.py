"""POST /users: a new user; without a password one temporary password is returned once."""

from hrms.auth import passwords  # noqa: F401 - hashes on every request: argon2 at init, not on the first request
from hrms.http import Response, api, created
from hrms.users import service
from hrms.users.models import CreatedUser, NewUser

app = api(permission="users:write", errors={409: "A user with this email already exists."})


@app.post("/users")
def create_user(body: NewUser) -> Response[CreatedUser]:
    return created(service.create_user(app.tenant, app.actor, body))


handler = app.handler
