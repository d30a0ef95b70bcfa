"""PATCH /tenants/{tenantId}: rename, describe, suspend or re-activate."""

from uuid import UUID

from hrms.http import Response, api, ok
from hrms.tenancy import PLATFORM_ADMIN
from hrms.tenants import service
from hrms.tenants.models import TenantDetail, TenantPatch

app = api(roles={PLATFORM_ADMIN})


@app.patch("/tenants/<tenantId>")
def update_tenant(tenantId: UUID, body: TenantPatch) -> Response[TenantDetail]:
    return ok(service.update_tenant(tenantId, body, app.actor))


handler = app.handler
