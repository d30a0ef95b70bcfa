"""GET /me: the caller, their tenant and their permissions."""

from hrms import snapstart
from hrms.auth import login as session
from hrms.auth.models import Me
from hrms.http import Response, api, ok
from hrms.tenancy import TENANT_ROLES

app = api(roles=TENANT_ROLES, allow_temporary_password=True)


@app.get("/me")
def get_me() -> Response[Me]:
    return ok(session.me(app.tenant, app.actor))


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
