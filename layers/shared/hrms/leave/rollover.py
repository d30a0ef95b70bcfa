"""Year-end rollover: allocate a leave year's balances, carrying unused days forward (capped per type).

For each active leave type and each employee still employed on the first day of the new year
(and joined by its end), one row for the new year: `allocated` = the type's annual quota,
`carried_forward` = what was left of the previous year (allocated + carried - used - pending;
pending days count as taken, since they may still be approved), at most the type's
`carry_forward_max` and never below 0; unpaid types carry nothing. Rows that already exist (a
hire in the new year, an earlier run) are left alone, so a rerun changes nothing: not a balance,
not an audit row, not a cache.

Each tenant runs in its own transaction; a failing tenant is reported and the others carry on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg

from hrms.db import audit_log
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.errors import DomainError, NotFound
from hrms.leave import repo
from hrms.leave.working_days import leave_year_bounds
from hrms.observability import logger
from hrms.tenancy import Actor, Tenant

SYSTEM_ROLE = "system"


@dataclass
class TenantRollover:
    slug: str
    allocated: int  # balance rows created
    carried_forward: Decimal  # days carried into the new year, all rows together


@dataclass
class RolloverSummary:
    year: int
    tenants: list[TenantRollover] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def allocated(self) -> int:
        return sum(t.allocated for t in self.tenants)


def rollover_tenant(tx: TenantTx, year: int) -> tuple[int, Decimal]:
    """Allocate leave year `year` in one tenant's transaction; returns (rows created, days carried)."""
    start_month = repo.calendar(tx).year_start_month
    first, last = leave_year_bounds(year, start_month)
    rows = repo.roll_over(tx, year, first, last)
    carried = sum((row.carried_forward for row in rows), Decimal(0))
    if rows:
        employees = len({row.employee_id for row in rows})
        audit_log.record(
            tx,
            "leave_balance.rolled_over",
            "leave_year",
            year,
            None,
            {"year": year, "rows": len(rows), "employees": employees, "carriedForward": carried},
        )
        declare(tx, Change("leave_balance", everyone=True))
    return len(rows), carried


def rollover(
    year: int,
    *,
    slug: str | None = None,
    actor_id: str = "leave-rollover",
    progress: Callable[[int, int], None] | None = None,
) -> RolloverSummary:
    """Allocate `year` for every active tenant (or the one named by `slug`)."""
    tenants = _tenants(slug)
    summary = RolloverSummary(year)
    for done, row in enumerate(tenants, start=1):
        tenant = Tenant(row.id, row.schema_name)
        try:
            with tenant_tx(tenant, Actor(actor_id, SYSTEM_ROLE, tenant)) as tx:
                allocated, carried = rollover_tenant(tx, year)
            summary.tenants.append(TenantRollover(row.slug, allocated, carried))
        except (psycopg.Error, DomainError, ValueError) as exc:
            logger.warning("Leave rollover failed for a tenant", extra={"tenant_id": str(row.id), "error": repr(exc)})
            summary.failed[row.slug] = str(exc)
        if progress:
            progress(done, len(tenants))
    return summary


def scheduled_year(event: dict[str, Any]) -> int:
    """The year a scheduled event allocates: `detail.year` if given, else the year of its `time`."""
    detail = event.get("detail")
    if isinstance(detail, dict) and detail.get("year"):
        return int(detail["year"])
    stamp = event.get("time")
    return dt.datetime.fromisoformat(stamp).year if isinstance(stamp, str) else dt.datetime.now(dt.UTC).year


def _tenants(slug: str | None) -> list[repo.TenantRef]:
    with transaction() as conn:
        rows = repo.active_tenants(conn, slug)
    if slug is not None and not rows:
        raise NotFound(f"No active tenant '{slug}'.")
    return rows
