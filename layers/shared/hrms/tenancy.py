"""Who the caller is and which tenant schema they may touch; schema-name rules."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from uuid import UUID

SLUG_PATTERN = r"^[a-z0-9](-?[a-z0-9])*$"
SCHEMA_PATTERN = re.compile(r"^tenant_[a-z0-9_]{1,40}_[0-9a-f]{8}$")
PLATFORM_ADMIN = "platform_admin"
TENANT_ROLES = ("admin", "hr_manager", "manager", "employee")


def schema_name_for(slug: str) -> str:
    """`tenant_<slug with - as _>_<8 hex>`; the random suffix keeps a re-used slug from colliding."""
    return checked_schema_name(f"tenant_{slug.replace('-', '_')}_{secrets.token_hex(4)}")


def checked_schema_name(name: str) -> str:
    """Return `name` if it is a well-formed tenant schema name; raise otherwise."""
    if not SCHEMA_PATTERN.fullmatch(name):
        raise ValueError(f"not a tenant schema name: {name!r}")
    return name


@dataclass(frozen=True)
class Tenant:
    tenant_id: UUID
    schema_name: str

    def __post_init__(self) -> None:
        checked_schema_name(self.schema_name)


@dataclass(frozen=True)
class Actor:
    """The verified caller: a platform admin (no tenant) or a user of one tenant."""

    user_id: str
    role: str
    tenant: Tenant | None
    must_change_password: bool = False
    employee_id: UUID | None = None  # set by admission (hrms.auth.credentials) for tenant users
    permissions: tuple[str, ...] = ()  # the role's grants at admission; empty for platform admins and jobs

    @property
    def is_platform_admin(self) -> bool:
        return self.role == PLATFORM_ADMIN

    @property
    def user_uuid(self) -> UUID | None:
        """The user id as a UUID; None for callers that are not tenant users (e.g. a system job)."""
        try:
            return UUID(self.user_id)
        except ValueError:
            return None
