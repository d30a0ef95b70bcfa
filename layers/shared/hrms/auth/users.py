"""Look-ups of tenant users across the registry (used by the CLI's token command and tests)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from hrms.auth import repo
from hrms.db import cells
from hrms.db.postgres import transaction
from hrms.errors import NotFound
from hrms.tenancy import checked_schema_name


@dataclass(frozen=True)
class TenantUser:
    user_id: UUID
    role: str
    tenant_id: UUID
    epoch: int = 0


def find_user_by_email(tenant_slug: str, email: str) -> TenantUser:
    with transaction(cells.cell_of_slug(tenant_slug)) as conn:  # the tenant's row and schema, in its cell
        tenant = repo.tenant_by_slug(conn, tenant_slug, active_only=False)
        if tenant is None:
            raise NotFound(f"No tenant '{tenant_slug}'.")
        user = repo.user_by_email(conn, checked_schema_name(tenant.schema_name), email)
    if user is None:
        raise NotFound(f"No user '{email}' in tenant '{tenant_slug}'.")
    return TenantUser(user_id=user.id, role=user.role, tenant_id=tenant.id, epoch=user.credentials_epoch)
