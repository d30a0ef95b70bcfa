"""Payroll figures of one month (`stats:{t}:payroll:<YYYY-MM>`, 30 min), from the month's live run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hrms.cache import views
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.errors import NotFound
from hrms.observability import logger
from hrms.payroll import repo
from hrms.payroll.models import DepartmentStats, PayrollStats, parse_month
from hrms.tenancy import Actor, Tenant

NAMESPACE = "payroll"


def cache_key(tenant_id: object, month: dt.date) -> str:
    return views.key("stats", tenant_id, "payroll", f"{month:%Y-%m}")


def payroll_stats(tenant: Tenant, actor: Actor, month_text: str) -> PayrollStats:
    """The month's run figures (not rejected runs); 404 if the month has no such run."""
    month = parse_month(month_text)
    with tenant_tx(tenant, actor) as tx:
        value = _cached(tx, month)
    if value is None:
        raise NotFound(f"No payroll has been run for {month_text}.")
    return PayrollStats.model_validate(value)


def warm(tenant: Tenant, actor: Actor, month: dt.date) -> None:
    """Recompute and store the month's stats after the change that invalidated them has committed.

    Best effort: the change is done, so a failure here is logged and the next read computes them.
    """
    try:
        with tenant_tx(tenant, actor) as tx:
            _cached(tx, month)
    except Exception:
        logger.warning("payroll stats of %s not warmed", f"{month:%Y-%m}", exc_info=True)


def _cached(tx: TenantTx, month: dt.date) -> dict[str, Any] | None:
    return views.cached(
        tx, NAMESPACE, cache_key(tx.tenant.tenant_id, month), views.TTL_STATS_S, lambda: _compute(tx, month)
    )


def _compute(tx: TenantTx, month: dt.date) -> dict[str, Any] | None:
    """The figures as the cache stores them (JSON), or None if the month has no run that is not rejected."""
    run = repo.live_run(tx, month)
    if run is None:
        return None
    stats = PayrollStats(
        month=f"{month:%Y-%m}",
        payroll_run_id=run.id,
        status=run.status,
        headcount=run.employee_count,
        gross=run.total_gross,
        deductions=run.total_deductions,
        net=run.total_net,
        by_department=[
            DepartmentStats(
                department_id=row.department_id,
                department_name=row.department_name,
                headcount=row.headcount,
                gross=row.gross,
                net=row.net,
            )
            for row in repo.by_department(tx, run.id)
        ],
    )
    return stats.model_dump(mode="json")
