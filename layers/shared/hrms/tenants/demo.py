"""The local demo tenant: fixed ids so the sample events in events/ work against `hrms dev` and tests."""

from __future__ import annotations

from uuid import UUID

from hrms.db.postgres import transaction
from hrms.tenancy import PLATFORM_ADMIN, Actor
from hrms.tenants import service
from hrms.tenants.models import NewTenant

DEMO = service.FixedIds(
    tenant_id=UUID("00000000-0000-4000-8000-000000000001"),
    schema_name="tenant_demo_00000001",
    admin_user_id=UUID("00000000-0000-4000-8000-0000000000a1"),
    admin_password="demo-admin-password",  # noqa: S106 - local demo data only, never in AWS
)
DEMO_SLUG = "demo"
DEMO_ADMIN_EMAIL = "admin@demo.example.com"


def ensure_demo_tenant() -> bool:
    """Create the demo tenant unless it exists; True if it was created now."""
    with transaction() as conn:
        if conn.execute("SELECT 1 FROM public.tenants WHERE id = %s", (DEMO.tenant_id,)).fetchone():
            return False
    new = NewTenant(
        name="Demo Company",
        slug=DEMO_SLUG,
        admin_email=DEMO_ADMIN_EMAIL,
        description="Local demo tenant used by the sample events",
    )
    service.create_tenant(new, Actor("hrms-dev", PLATFORM_ADMIN, None), fixed=DEMO)
    return True
