"""POST /tenants: a new tenant with its own schema and a temporary admin password."""

from hrms.auth import passwords  # noqa: F401 - hashes on every request: argon2 at init, not on the first request
from hrms.http import Response, api, created
from hrms.tenancy import PLATFORM_ADMIN
from hrms.tenants import service
from hrms.tenants.models import CreatedTenant, NewTenant

app = api(roles={PLATFORM_ADMIN}, errors={409: "The slug is already taken."})


@app.post("/tenants")
def create_tenant(body: NewTenant) -> Response[CreatedTenant]:
    return created(service.create_tenant(body, app.actor))


handler = app.handler
