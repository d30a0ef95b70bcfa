"""PUT /tenants/{tenantId}/features: replace the tenant's platform-level switches."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.tenancy import PLATFORM_ADMIN
from hrms.tenants import service
from hrms.tenants.models import TenantFeatures, TenantFeaturesIn

app = api(roles={PLATFORM_ADMIN})


@app.put("/tenants/<tenantId>/features")
def set_tenant_features(tenantId: UUID, body: TenantFeaturesIn) -> Response[TenantFeatures]:
    return ok(service.set_features(tenantId, body.features, app.actor))


handler = app.handler
