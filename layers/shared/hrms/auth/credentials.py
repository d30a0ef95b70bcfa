"""Whether a token still speaks for its user, checked on every request behind the authorizer.

API Gateway caches the authorizer's answer per token (60 s), so revocation cannot live there
alone. Every token carries the credentials epoch of its user (`ep`) at issue time; a password
change or reset, a role change or disabling the user increments the epoch, and the handler
wrapper compares it on each request, together with the user's status, leaving date (it takes
effect at the start of that day in the tenant's timezone, no job needed) and the tenant's
status. The same single PostgreSQL query returns the role's permissions, so admission costs one
round trip and never trusts a cache: Redis being down, stale or racing an invalidation can
never let a revoked token through. The platform admin's epoch lives in
`public.platform_credentials` (`hrms platform revoke-tokens`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hrms.auth import repo
from hrms.db import cells
from hrms.db.postgres import Conn, TenantTx, transaction
from hrms.errors import Forbidden, Unauthorized, WritesFrozen
from hrms.tenancy import PLATFORM_ADMIN, Actor, Tenant, checked_schema_name

REVOKED = "This token is no longer valid; sign in again."


@dataclass(frozen=True)
class UserState:
    """A tenant user as admission sees them now."""

    user_id: UUID
    role: str
    status: str
    epoch: int
    must_change_password: bool
    employee_id: UUID | None
    date_of_leaving: dt.date | None
    timezone: str
    permissions: tuple[str, ...]
    frozen_retry_after_s: int | None = None  # writes frozen (a restore in progress)

    @property
    def has_left(self) -> bool:
        return self.date_of_leaving is not None and self.date_of_leaving <= today_in(self.timezone)

    @property
    def active(self) -> bool:
        return self.status == "active" and not self.has_left


def today_in(timezone: str) -> dt.date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return dt.datetime.now(zone).date()


def load(conn: Conn, schema: str, user_id: UUID) -> tuple[UserState, str] | None:
    """The user's state and their tenant's status (one statement), or None for an unknown user."""
    row = repo.user_state(conn, schema, user_id)
    if row is None:
        return None
    state = UserState(
        user_id=row.user_id,
        role=row.role,
        status=row.status,
        epoch=int(row.epoch),
        must_change_password=bool(row.must_change_password),
        employee_id=row.employee_id,
        date_of_leaving=row.date_of_leaving,
        timezone=row.timezone,
        permissions=tuple(sorted(row.permissions)),
        frozen_retry_after_s=row.frozen_retry_after_s,
    )
    return state, str(row.tenant_status)


def admit(context: dict[str, Any] | None, *, writing: bool = False) -> Actor:
    """The caller of this request as they are now, from the authorizer context: 401 for a revoked
    token (epoch, role, disabled, left), 403 for a suspended tenant, 503 with Retry-After for a write
    (`writing`) while the tenant's writes are frozen (a restore replacing its data)."""
    if not context or "role" not in context or "userId" not in context:
        raise Unauthorized("Missing authorizer context.")
    epoch = _int(context.get("credentialsEpoch"))
    if context["role"] == PLATFORM_ADMIN:
        if epoch != platform_epoch():
            raise Unauthorized(REVOKED)
        return Actor(user_id=str(context["userId"]), role=PLATFORM_ADMIN, tenant=None)
    try:
        tenant = Tenant(UUID(str(context["tenantId"])), checked_schema_name(str(context["schemaName"])))
        user_id = UUID(str(context["userId"]))
    except (KeyError, ValueError) as exc:
        raise Unauthorized("Missing authorizer context.") from exc
    with transaction(cells.cell_of(tenant.tenant_id)) as conn:
        found = load(conn, tenant.schema_name, user_id)
    if found is None:
        raise Unauthorized(REVOKED)
    state, tenant_status = found
    if tenant_status == "moved" or state.frozen_retry_after_s is not None:
        cells.forget(tenant.tenant_id)  # a move may be flipping it: the retry reads the registry again
    if tenant_status == "moved":  # this copy stays only for a grace period (hrms.tenants.moves)
        raise WritesFrozen("This tenant has just moved to another database; try again.", retry_after_s=1)
    if tenant_status != "active":
        raise Forbidden("This tenant is suspended.")
    if not state.active or state.epoch != epoch or state.role != context["role"]:
        raise Unauthorized(REVOKED)
    if writing and state.frozen_retry_after_s is not None:
        raise WritesFrozen(
            "This tenant's data is being restored; try again shortly.", retry_after_s=state.frozen_retry_after_s
        )
    return Actor(
        user_id=str(user_id),
        role=state.role,
        tenant=tenant,
        must_change_password=state.must_change_password,
        employee_id=state.employee_id,
        permissions=state.permissions,
    )


def platform_epoch() -> int:
    with transaction() as conn:
        epoch = repo.platform_epoch(conn)
    return int(epoch) if epoch is not None else 0


def rotate_platform_epoch() -> int:
    """Revoke every platform-admin token issued so far; returns the new epoch."""
    with transaction() as conn:
        return repo.rotate_platform_epoch(conn)


def revoke(tx: TenantTx, user_id: UUID) -> int:
    """Increment the user's credentials epoch in the caller's transaction; returns the new epoch."""
    epoch = repo.revoke(tx, user_id)
    return int(epoch) if epoch is not None else 0


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1
