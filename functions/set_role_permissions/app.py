"""PUT /roles/{role}: replace a role's permissions (invalidates the permission caches)."""

from hrms.http import Response, api, ok
from hrms.users import service
from hrms.users.models import RolePermissions, RolePermissionsIn

app = api(permission="roles:write", errors={409: "The admin role always has every permission."})


@app.put("/roles/<role>")
def set_role_permissions(role: str, body: RolePermissionsIn) -> Response[RolePermissions]:
    return ok(service.set_role_permissions(app.tenant, app.actor, role, body.permissions))


handler = app.handler
