"""SQL of the payslips domain: the snapshot taken when a run is processed, the worker's reads and file
records, and the routes' reads. Every tenant table through `tx.t(...)`, every value bound.

The snapshot is two set-based statements (no employee row reaches Python, whatever the headcount).
Unpaid leave days are counted as `hrms.payroll.calculation` counts them: approved leave of unpaid
types on working days (not a weekend day of the tenant, not a holiday) inside the days the employee
was paid for in the month (employed, and from their first salary on); a half day is 0.5.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.db import rows
from hrms.db.postgres import TenantTx

RUNS = "payslip_runs"
LINES = "payslip_lines"
FILES = "payslips"


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class SlipRunRow:
    """A `payslip_runs` row: the header every payslip of a processed run prints."""

    payroll_run_id: UUID
    month: dt.date
    company_name: str
    currency: str
    processed_at: dt.datetime
    employee_count: int


@dataclass(frozen=True)
class SlipLineRow:
    """A `payslip_lines` row: one employee's payslip as snapshotted."""

    payroll_run_id: UUID
    employee_id: UUID
    employee_code: str
    employee_name: str
    department: str | None
    designation: str | None
    pan_masked: str | None
    paid_days: Decimal
    unpaid_days: Decimal
    days_in_month: int
    gross: Decimal
    deductions: Decimal
    net: Decimal
    components: list[dict[str, Any]]


@dataclass(frozen=True)
class FileRow:
    """A `payslips` row: a stored PDF."""

    payroll_run_id: UUID
    employee_id: UUID
    object_key: str
    size_bytes: int
    sha256: str
    rendered_at: dt.datetime


@dataclass(frozen=True)
class SummaryRow:
    """One payslip of an employee: its run, figures and file (None while it is being prepared)."""

    payroll_run_id: UUID
    month: dt.date
    gross: Decimal
    deductions: Decimal
    net: Decimal
    object_key: str | None


@dataclass(frozen=True)
class RunStateRow:
    """A payroll run's status, with whether its payslips were snapshotted."""

    status: str
    month: dt.date
    snapshotted: bool


@dataclass(frozen=True)
class NewFile:
    employee_id: UUID
    object_key: str
    size_bytes: int
    sha256: str


# ---------------------------------------------------------------- the snapshot


def tenant_name(tx: TenantTx) -> str:
    name = rows.scalar(tx, sql.SQL("SELECT name FROM public.tenants WHERE id = %s"), (tx.tenant.tenant_id,))
    return str(name) if name is not None else ""


def organisation_settings(tx: TenantTx, keys: Collection[str]) -> dict[str, Any]:
    """The tenant's `organization_settings` values of `keys` (what MongoDB's settings are laid over)."""
    query = sql.SQL("SELECT key, value FROM {} WHERE key = ANY(%s)").format(tx.t("organization_settings"))
    return {row["key"]: row["value"] for row in tx.execute(query, (list(keys),)).fetchall()}


def snapshot(tx: TenantTx, run_id: UUID, company_name: str, currency: str, weekend: Collection[int]) -> int:
    """Snapshot the processed run `run_id`'s payslips; the number of lines (0 if already snapshotted)."""
    header = sql.SQL(
        "INSERT INTO {slips} (payroll_run_id, month, company_name, currency, processed_at, employee_count)"
        " SELECT id, month, %(company)s, %(currency)s, processed_at, employee_count FROM {runs}"
        " WHERE id = %(run)s AND status = 'processed' AND processed_at IS NOT NULL"
        " ON CONFLICT (payroll_run_id) DO NOTHING RETURNING month"
    ).format(slips=tx.t(RUNS), runs=tx.t("payroll_runs"))
    month = rows.scalar(tx, header, {"run": run_id, "company": company_name, "currency": currency})
    if month is None:
        return 0
    lines = sql.SQL(
        """
        WITH bounds AS (
            SELECT %(month)s::date AS m_start,
                   (%(month)s::date + interval '1 month' - interval '1 day')::date AS m_end
        ), staff AS (
            SELECT p.employee_id,
                   greatest(e.date_of_joining, b.m_start,
                            (SELECT min(s.effective_from) FROM {salaries} s WHERE s.employee_id = p.employee_id))
                       AS from_day,
                   least(coalesce(e.date_of_leaving, b.m_end), b.m_end) AS to_day
            FROM {payroll} p JOIN {employees} e ON e.id = p.employee_id CROSS JOIN bounds b
            WHERE p.payroll_run_id = %(run)s
        ), unpaid AS (
            SELECT st.employee_id, sum(CASE WHEN l.half_day IS NULL THEN 1 ELSE 0.5 END) AS days
            FROM staff st
            JOIN {leaves} l ON l.employee_id = st.employee_id AND l.status = 'approved'
                           AND l.start_date <= st.to_day AND l.end_date >= st.from_day
            JOIN {leave_types} t ON t.id = l.leave_type_id AND NOT t.paid
            CROSS JOIN LATERAL generate_series(
                greatest(l.start_date, st.from_day)::timestamp, least(l.end_date, st.to_day)::timestamp,
                interval '1 day'
            ) AS d(day)
            WHERE extract(isodow FROM d.day)::int <> ALL (%(weekend)s::int[])
              AND NOT EXISTS (SELECT 1 FROM {holidays} h WHERE h.date = d.day::date)
            GROUP BY st.employee_id
        )
        INSERT INTO {lines} (payroll_run_id, employee_id, employee_code, employee_name, department, designation,
                             pan_masked, paid_days, unpaid_days, days_in_month, gross, deductions, net, components)
        SELECT p.payroll_run_id, p.employee_id, e.employee_code, e.first_name || ' ' || e.last_name, d.name,
               g.title, e.pan_masked, p.paid_days, coalesce(u.days, 0),
               extract(day FROM (SELECT m_end FROM bounds))::int, p.gross, p.deductions, p.net, p.components
        FROM {payroll} p
        JOIN {employees} e ON e.id = p.employee_id
        LEFT JOIN {departments} d ON d.id = p.department_id
        LEFT JOIN {designations} g ON g.id = e.designation_id
        LEFT JOIN unpaid u ON u.employee_id = p.employee_id
        WHERE p.payroll_run_id = %(run)s
        """
    ).format(
        lines=tx.t(LINES),
        **{
            name: tx.t(table)
            for name, table in (
                ("payroll", "payroll"),
                ("employees", "employees"),
                ("salaries", "employee_salaries"),
                ("leaves", "leaves"),
                ("leave_types", "leave_types"),
                ("holidays", "holidays"),
                ("departments", "departments"),
                ("designations", "designations"),
            )
        },
    )
    cursor = tx.execute(lines, {"run": run_id, "month": month, "weekend": sorted(weekend)})
    return cursor.rowcount


# ---------------------------------------------------------------- the worker


def run_header(tx: TenantTx, run_id: UUID) -> SlipRunRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE payroll_run_id = %s").format(rows.columns(SlipRunRow), tx.t(RUNS))
    return rows.one(tx, SlipRunRow, query, (run_id,))


def unrendered(tx: TenantTx, run_id: UUID, after: tuple[str, UUID] | None, limit: int) -> list[SlipLineRow]:
    """Up to `limit` of the run's lines without a stored file, by (employee code, id), after `after`."""
    query = sql.SQL(
        "SELECT {columns} FROM {lines} l WHERE l.payroll_run_id = %(run)s"
        " AND NOT EXISTS (SELECT 1 FROM {files} f WHERE f.payroll_run_id = l.payroll_run_id"
        "  AND f.employee_id = l.employee_id)"
        " AND (%(code)s::text IS NULL OR (l.employee_code, l.employee_id) > (%(code)s, %(id)s))"
        " ORDER BY l.employee_code, l.employee_id LIMIT %(limit)s"
    ).format(columns=rows.columns(SlipLineRow, "l"), lines=tx.t(LINES), files=tx.t(FILES))
    params = {"run": run_id, "code": after[0] if after else None, "id": after[1] if after else None, "limit": limit}
    return rows.many(tx, SlipLineRow, query, params)


def line(tx: TenantTx, run_id: UUID, employee_id: UUID) -> SlipLineRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE payroll_run_id = %s AND employee_id = %s").format(
        rows.columns(SlipLineRow), tx.t(LINES)
    )
    return rows.one(tx, SlipLineRow, query, (run_id, employee_id))


def record_files(tx: TenantTx, run_id: UUID, files: Sequence[NewFile]) -> list[UUID]:
    """Record stored PDFs; the employees whose record this call wrote (an existing one is kept as is)."""
    if not files:
        return []
    query = sql.SQL(
        "INSERT INTO {} (payroll_run_id, employee_id, object_key, size_bytes, sha256)"
        " SELECT %s, * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::text[])"
        " ON CONFLICT (payroll_run_id, employee_id) DO NOTHING RETURNING employee_id"
    ).format(tx.t(FILES))
    params = (
        run_id,
        [f.employee_id for f in files],
        [f.object_key for f in files],
        [f.size_bytes for f in files],
        [f.sha256 for f in files],
    )
    return list(rows.scalars(tx, query, params))


def file_of(tx: TenantTx, run_id: UUID, employee_id: UUID) -> FileRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE payroll_run_id = %s AND employee_id = %s").format(
        rows.columns(FileRow), tx.t(FILES)
    )
    return rows.one(tx, FileRow, query, (run_id, employee_id))


# ---------------------------------------------------------------- the routes


def run_state(tx: TenantTx, run_id: UUID) -> RunStateRow | None:
    query = sql.SQL(
        "SELECT r.status, r.month, EXISTS (SELECT 1 FROM {slips} s WHERE s.payroll_run_id = r.id) AS snapshotted"
        " FROM {runs} r WHERE r.id = %s"
    ).format(slips=tx.t(RUNS), runs=tx.t("payroll_runs"))
    return rows.one(tx, RunStateRow, query, (run_id,))


def summaries(tx: TenantTx, employee_id: UUID, year: int | None) -> list[SummaryRow]:
    """The employee's payslips of processed runs (optionally of one calendar year), newest month first."""
    query = sql.SQL(
        "SELECT l.payroll_run_id, r.month, l.gross, l.deductions, l.net, f.object_key"
        " FROM {lines} l JOIN {slips} r ON r.payroll_run_id = l.payroll_run_id"
        " LEFT JOIN {files} f ON f.payroll_run_id = l.payroll_run_id AND f.employee_id = l.employee_id"
        " WHERE l.employee_id = %(employee)s"
        " AND (%(year)s::int IS NULL OR extract(year FROM r.month) = %(year)s)"
        " ORDER BY r.month DESC"
    ).format(lines=tx.t(LINES), slips=tx.t(RUNS), files=tx.t(FILES))
    return rows.many(tx, SummaryRow, query, {"employee": employee_id, "year": year})
