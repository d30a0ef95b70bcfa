"""SQL of the dashboards: a few set-based reads, every table through `tx.t(...)`, every value bound.

Months are computed in SQL from the tenant's `today` (bound), so "this month" follows its time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.db.postgres import TenantTx

Row = dict[str, Any]

TREND_MONTHS = 6
PAYSLIPS = 6
_MONTH = sql.SQL("date_trunc('month', %(today)s::date)::date")
_NEXT_MONTH = sql.SQL("(date_trunc('month', %(today)s::date) + interval '1 month')::date")


def figures(tx: TenantTx, today: dt.date) -> Row:
    """Headcount, joiners and leavers of today's month, people on approved leave today, pending approval tasks."""
    row = tx.execute(
        sql.SQL(
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
        ),
        {"today": today},
    ).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return row


def headcount_by_department(tx: TenantTx) -> list[Row]:
    """Every department with its employees not terminated; those without a department last (id null)."""
    return tx.execute(
        sql.SQL(
            "SELECT d.id AS department_id, d.name, count(e.id) AS headcount FROM {departments} d"
            " FULL JOIN (SELECT id, department_id FROM {employees} WHERE status <> 'terminated') e"
            " ON e.department_id = d.id GROUP BY d.id, d.name ORDER BY d.id IS NULL, lower(d.name), d.id"
        ).format(departments=tx.t("departments"), employees=tx.t("employees"))
    ).fetchall()


def payroll_trend(tx: TenantTx, today: dt.date) -> list[Row]:
    """The payroll runs (not rejected) of today's month and the 5 before it, oldest first."""
    return tx.execute(
        sql.SQL(
            "SELECT to_char(month, 'YYYY-MM') AS month, employee_count, total_gross AS gross, total_net AS net, status"
            " FROM {runs} WHERE status <> 'rejected'"
            " AND month >= {month} - %(back)s * interval '1 month' AND month <= {month} ORDER BY month"
        ).format(runs=tx.t("payroll_runs"), month=_MONTH),
        {"today": today, "back": TREND_MONTHS - 1},
    ).fetchall()


def approvals_waiting(tx: TenantTx, employee_id: UUID) -> int:
    row = tx.execute(
        sql.SQL("SELECT count(*) AS n FROM {} WHERE status = 'pending' AND assignee_employee_id = %s").format(
            tx.t("approvals")
        ),
        (employee_id,),
    ).fetchone()
    return int(row["n"]) if row else 0


def payslips(tx: TenantTx, employee_id: UUID) -> list[Row]:
    """The employee's last payslips of approved or processed runs, newest first."""
    return tx.execute(
        sql.SQL(
            "SELECT to_char(p.month, 'YYYY-MM') AS month, p.gross, p.deductions, p.net, r.status"
            " FROM {payroll} p JOIN {runs} r ON r.id = p.payroll_run_id"
            " WHERE p.employee_id = %s AND r.status IN ('approved', 'processed') ORDER BY p.month DESC LIMIT %s"
        ).format(payroll=tx.t("payroll"), runs=tx.t("payroll_runs")),
        (employee_id, PAYSLIPS),
    ).fetchall()
