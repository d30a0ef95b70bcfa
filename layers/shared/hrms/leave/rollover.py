"""The rollover: open each tenant's new leave year when it begins in the tenant's time zone.

One schedule (hourly, LeaveRolloverFunction) for every tenant: `open_due(now)` visits only the
active tenants whose next leave year may have begun (`public.tenants.leave_year_turns_at` passed, or
never checked), and for each opens, in order, every year from the one after its last opened year up
to the one containing today in its zone (`hrms.leave.years` says where years begin). A missed run,
day or year is caught up by the next; a rerun changes nothing (a year is opened once; existing rows
are left alone): not a balance, not an audit row, not a cache.

Opening year Y allocates, for each active leave type and each employee still employed on its first
day (and joined by its last): `allocated` = the annual quota for the year's length (`quota * months
/ 12`, to the nearest half day), `carried_forward` = what was left of Y-1 (allocated + carried +
adjusted - used - pending; pending days count as taken, since they may still be approved), at most
the type's `carry_forward_max` and never below 0; unpaid types carry nothing.

Each tenant runs in its own transaction; a failing tenant is reported, keeps its turn time (so the
next run retries it) and the others carry on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from hrms.db import audit_log, cells
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.errors import DomainError, NotFound
from hrms.leave import balances, repo
from hrms.leave.years import LeaveYear, LeaveYears
from hrms.observability import logger
from hrms.tenancy import Actor, Tenant

SYSTEM_ROLE = "system"


@dataclass
class TenantRollover:
    slug: str
    years: list[int]  # the leave years opened now (empty: nothing was due)
    allocated: int  # balance rows created
    carried_forward: Decimal  # days carried into the new years, all rows together
    turns_at: dt.datetime | None = None  # when its next leave year begins


@dataclass
class RolloverSummary:
    at: dt.datetime
    tenants: list[TenantRollover] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def allocated(self) -> int:
        return sum(t.allocated for t in self.tenants)


def open_due(
    now: dt.datetime,
    *,
    slug: str | None = None,
    actor_id: str = "leave-rollover",
    progress: Callable[[int, int], None] | None = None,
) -> RolloverSummary:
    """Open the leave years that have begun by `now` for every due tenant (or only `slug`, if it is due)."""
    with transaction() as conn:
        tenants = repo.due_tenants(conn, now, slug)
        if slug is not None and not tenants and not repo.is_active_tenant(conn, slug):
            raise NotFound(f"No active tenant '{slug}'.")
    summary = RolloverSummary(now)
    for done, row in enumerate(tenants, start=1):
        tenant = Tenant(row.id, row.schema_name)
        try:
            with tenant_tx(tenant, Actor(actor_id, SYSTEM_ROLE, tenant)) as tx:
                done_now = open_years(tx, row.slug, now)
            summary.tenants.append(done_now)
        except (psycopg.Error, DomainError, ValueError) as exc:
            logger.warning("Leave rollover failed for a tenant", extra={"tenant_id": str(row.id), "error": repr(exc)})
            summary.failed[row.slug] = str(exc)
        else:
            if done_now.turns_at is not None and cells.cell_of(row.id) != cells.DEFAULT:
                _note_turn_in_registry(row.id, done_now.turns_at)
        if progress:
            progress(done, len(tenants))
    return summary


def _note_turn_in_registry(tenant_id: UUID, turns_at: dt.datetime) -> None:
    """The control database's registry, which `due_tenants` reads, learns the turn of a tenant of another cell.
    Not in the tenant's transaction (another database): if it fails, the tenant is visited again next run,
    which changes nothing."""
    try:
        with transaction() as conn:
            repo.set_registry_turn(conn, tenant_id, turns_at)
    except (psycopg.Error, DomainError) as exc:
        logger.warning("The registry did not take a tenant's leave-year turn", extra={"error": repr(exc)})


def open_years(tx: TenantTx, slug: str, now: dt.datetime) -> TenantRollover:
    """Open every leave year of the tenant that has begun by `now`, and record when the next begins."""
    cal = repo.calendar(tx)
    years = balances.years_of(tx, cal)
    current = years.containing(now.astimezone(cal.zone).date())
    result = TenantRollover(slug, [], 0, Decimal(0))
    for year in _not_opened_up_to(years, current):
        if repo.open_year(tx, year):
            _allocate(tx, year, result)
    following = balances.years_of(tx, cal).following(current)
    result.turns_at = dt.datetime.combine(following.first, dt.time(0), tzinfo=cal.zone)
    repo.set_turn(tx, result.turns_at)
    return result


def _not_opened_up_to(years: LeaveYears, current: LeaveYear) -> list[LeaveYear]:
    if not years.opened:
        return [current]
    due: list[LeaveYear] = []
    year = years.opened[-1]
    while year.year < current.year:
        year = years.following(year)
        due.append(year)
    return due


def _allocate(tx: TenantTx, year: LeaveYear, result: TenantRollover) -> None:
    rows = repo.roll_over(tx, year, year.year - 1)
    carried = sum((row.carried_forward for row in rows), Decimal(0))
    result.years.append(year.year)
    result.allocated += len(rows)
    result.carried_forward += carried
    audit_log.record(
        tx,
        "leave_year.opened",
        "leave_year",
        year.year,
        None,
        {
            "year": year.year,
            "firstDay": year.first.isoformat(),
            "lastDay": year.last.isoformat(),
            "rows": len(rows),
            "employees": len({row.employee_id for row in rows}),
            "carriedForward": carried,
        },
    )
    if rows:
        declare(tx, Change("leave_balance", everyone=True))


def scheduled_time(event: dict[str, Any]) -> dt.datetime:
    """The instant a scheduled event stands for: `detail.at` if given (a manual run), else its `time`."""
    detail = event.get("detail")
    stamp = detail.get("at") if isinstance(detail, dict) and detail.get("at") else event.get("time")
    if not isinstance(stamp, str):
        return dt.datetime.now(dt.UTC)
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
