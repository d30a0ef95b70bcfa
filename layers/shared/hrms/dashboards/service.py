"""The executive and employee dashboards, served from `dashboard:{t}:...` while their epoch is current.

One `tenant_tx` per read. The executive dashboard has its own organisation-level permission; an
employee's needs that employee within the caller's scope, checked before the cache is read, so a
cached dashboard is never handed to someone who may not see it (404, as for the employee record).
"Today" and "this month" are the tenant's (its time zone), computed on a miss. Payslips (processed
runs only, as `GET /employees/{id}/payslips`) are shown only to the employee and to callers whose
`payslips:read` reaches them: a manager sees a report's leave, not pay.
"""

from __future__ import annotations

from uuid import UUID

from psycopg import sql

from hrms.auth.permissions import held
from hrms.auth.policy import scope_of
from hrms.auth.scope import Visibility, caller_employee_id, visible
from hrms.dashboards import cache, repo
from hrms.dashboards.models import EmployeeDashboard, ExecutiveDashboard
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.employees import repo as employees
from hrms.errors import NotFound
from hrms.leave import balances
from hrms.leave import repo as leave
from hrms.leave.service import to_leave
from hrms.pagination import MAX_LIMIT
from hrms.tenancy import Actor, Tenant

_EVERYONE = Visibility(sql.SQL("TRUE"), {})  # inside a dashboard whose employee the caller may see


PAY = "payslips:read"  # who sees an employee's payslips on their dashboard, besides the employee


def executive_dashboard(tenant: Tenant, actor: Actor) -> ExecutiveDashboard:
    with tenant_tx(tenant, actor) as tx:
        data = cache.cached(tx, cache.executive_key(tx), lambda: _executive(tx).model_dump(mode="json"))
    return ExecutiveDashboard.model_validate(data)


def employee_dashboard(tenant: Tenant, actor: Actor, scope: str, employee_id: UUID) -> EmployeeDashboard:
    with tenant_tx(tenant, actor) as tx:
        if employees.find(tx, employee_id, visible(tx, scope, actor)) is None:
            raise NotFound("No such employee.")
        data = cache.cached(
            tx, cache.employee_key(tx, employee_id), lambda: _employee(tx, employee_id).model_dump(mode="json")
        )
        pay_scope = "self" if caller_employee_id(tx, actor) == employee_id else scope_of(held(tx, actor), PAY)
        sees_pay = pay_scope is not None and employees.find(tx, employee_id, visible(tx, pay_scope, actor)) is not None
    dashboard = EmployeeDashboard.model_validate(data)
    return dashboard if sees_pay else dashboard.model_copy(update={"payslips": None})


def _executive(tx: TenantTx) -> ExecutiveDashboard:
    today = leave.calendar(tx).today()
    figures = repo.figures(tx, today)
    return ExecutiveDashboard(
        as_of=today,
        headcount=figures.headcount,
        by_department=repo.headcount_by_department(tx),
        joiners_this_month=figures.joiners,
        leavers_this_month=figures.leavers,
        on_leave_today=figures.on_leave_today,
        pending_approvals=figures.pending_approvals,
        payroll_trend=repo.payroll_trend(tx, today),
    )


def _employee(tx: TenantTx, employee_id: UUID) -> EmployeeDashboard:
    year = balances.current_year(tx).year
    pending = leave.leaves_page(
        tx, _EVERYONE, leave.Filters(employee_id=employee_id, status="pending"), None, MAX_LIMIT
    )
    return EmployeeDashboard(
        employee_id=employee_id,
        leave_year=year,
        balances=[balances.to_balance(row) for row in leave.balances_of_year(tx, employee_id, year)],
        pending_leaves=[to_leave(row) for row in pending],
        approvals_waiting=repo.approvals_waiting(tx, employee_id),
        payslips=repo.payslips(tx, employee_id),
    )
