"""GET /roles: each role with its permissions."""

from hrms.http import Response, api, ok
from hrms.users import service
from hrms.users.models import RolePermissions

app = api(permission="roles:read")


@app.get("/roles")
def list_roles() -> Response[list[RolePermissions]]:
    return ok(service.list_roles(app.tenant, app.actor))


handler = app.handler
