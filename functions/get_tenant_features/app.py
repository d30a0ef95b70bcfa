"""GET /tenants/{tenantId}/features: platform-level switches of one tenant."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.tenancy import PLATFORM_ADMIN
from hrms.tenants import service
from hrms.tenants.models import TenantFeatures

app = api(roles={PLATFORM_ADMIN})


@app.get("/tenants/<tenantId>/features")
def get_tenant_features(tenantId: UUID) -> Response[TenantFeatures]:
    return ok(service.get_features(tenantId))


handler = app.handler
