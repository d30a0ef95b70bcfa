"""GET /users: the tenant's users (admin)."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.users import service
from hrms.users.models import Role, User

app = api(permission="users:read")


@app.get("/users")
def list_users(
    role: Annotated[Role | None, Query()] = None,
    status: Annotated[Literal["active", "disabled"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[User]]:
    return ok(service.list_users(app.tenant, app.actor, role, status, limit, cursor))


handler = app.handler
