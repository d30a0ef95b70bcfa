"""SQL of the dashboards: a few set-based reads, every table through `tx.t(...)`, every value bound.

Months are computed in SQL from the tenant's `today` (bound), so "this month" follows its time zone.
Rows come out typed: the figures as the frozen dataclass `Figures` (psycopg `class_row`), the lists
straight into their wire models (`kwargs_row`), each query selecting exactly the fields of its shape.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row, kwargs_row, scalar_row

from hrms.dashboards.models import DepartmentHeadcount, PayrollMonth, Payslip
from hrms.db.postgres import TenantTx

TREND_MONTHS = 6
PAYSLIPS = 6
_MONTH = sql.SQL("date_trunc('month', %(today)s::date)::date")
_NEXT_MONTH = sql.SQL("(date_trunc('month', %(today)s::date) + interval '1 month')::date")


@dataclass(frozen=True)
class Figures:
    """The executive dashboard's counts of today's month and today."""

    headcount: int
    joiners: int
    leavers: int
    on_leave_today: int
    pending_approvals: int


def figures(tx: TenantTx, today: dt.date) -> Figures:
    """Headcount, joiners and leavers of today's month, people on approved leave today, pending approval tasks."""
    query = sql.SQL(
        "SELECT count(*) FILTER (WHERE status <> 'terminated') AS headcount,"
        " count(*) FILTER (WHERE date_of_joining >= {month} AND date_of_joining < {next}) AS joiners,"
        " count(*) FILTER (WHERE date_of_leaving >= {month} AND date_of_leaving < {next}) AS leavers,"
        " (SELECT count(DISTINCT employee_id) FROM {leaves} WHERE status = 'approved'"
        "  AND start_date <= %(today)s AND end_date >= %(today)s) AS on_leave_today,"
        " (SELECT count(*) FROM {approvals} WHERE status = 'pending') AS pending_approvals"
        " FROM {employees}"
    ).format(
        month=_MONTH,
        next=_NEXT_MONTH,
        leaves=tx.t("leaves"),
        approvals=tx.t("approvals"),
        employees=tx.t("employees"),
    )
    with tx.conn.cursor(row_factory=class_row(Figures)) as cur:
        row = cur.execute(query, {"today": today}).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return row


def headcount_by_department(tx: TenantTx) -> list[DepartmentHeadcount]:
    """Every department with its employees not terminated; those without a department last (id null)."""
    query = sql.SQL(
        "SELECT d.id AS department_id, d.name, count(e.id) AS headcount FROM {departments} d"
        " FULL JOIN (SELECT id, department_id FROM {employees} WHERE status <> 'terminated') e"
        " ON e.department_id = d.id GROUP BY d.id, d.name ORDER BY d.id IS NULL, lower(d.name), d.id"
    ).format(departments=tx.t("departments"), employees=tx.t("employees"))
    with tx.conn.cursor(row_factory=kwargs_row(DepartmentHeadcount)) as cur:
        return cur.execute(query).fetchall()


def payroll_trend(tx: TenantTx, today: dt.date) -> list[PayrollMonth]:
    """The payroll runs (not rejected) of today's month and the 5 before it, oldest first."""
    query = sql.SQL(
        "SELECT to_char(month, 'YYYY-MM') AS month, employee_count, total_gross AS gross, total_net AS net, status"
        " FROM {runs} WHERE status <> 'rejected'"
        " AND month >= {month} - %(back)s * interval '1 month' AND month <= {month} ORDER BY month"
    ).format(runs=tx.t("payroll_runs"), month=_MONTH)
    with tx.conn.cursor(row_factory=kwargs_row(PayrollMonth)) as cur:
        return cur.execute(query, {"today": today, "back": TREND_MONTHS - 1}).fetchall()


def approvals_waiting(tx: TenantTx, employee_id: UUID) -> int:
    """Pending approval tasks assigned to the employee."""
    query = sql.SQL("SELECT count(*) FROM {} WHERE status = 'pending' AND assignee_employee_id = %s").format(
        tx.t("approvals")
    )
    with tx.conn.cursor(row_factory=scalar_row) as cur:
        n = cur.execute(query, (employee_id,)).fetchone()
    return int(n) if n is not None else 0


def payslips(tx: TenantTx, employee_id: UUID) -> list[Payslip]:
    """The employee's last payslips, newest first: processed runs only, as `GET /employees/{id}/payslips`
    (a draft or approved run may still change, and has no payslip)."""
    query = sql.SQL(
        "SELECT to_char(p.month, 'YYYY-MM') AS month, p.gross, p.deductions, p.net, r.status"
        " FROM {payroll} p JOIN {runs} r ON r.id = p.payroll_run_id"
        " WHERE p.employee_id = %s AND r.status = 'processed' ORDER BY p.month DESC LIMIT %s"
    ).format(payroll=tx.t("payroll"), runs=tx.t("payroll_runs"))
    with tx.conn.cursor(row_factory=kwargs_row(Payslip)) as cur:
        return cur.execute(query, (employee_id, PAYSLIPS)).fetchall()
