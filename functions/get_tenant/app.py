"""GET /tenants/{tenantId}: one tenant with its settings, schema version, employee count and last activity."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.tenancy import PLATFORM_ADMIN
from hrms.tenants import service
from hrms.tenants.models import TenantDetail

app = api(roles={PLATFORM_ADMIN})


@app.get("/tenants/<tenantId>")
def get_tenant(tenantId: UUID) -> Response[TenantDetail]:
    return ok(service.get_tenant(tenantId))


handler = app.handler
