"""SQL of the payroll domain; every table through `tx.t(...)`, every value bound.

Rows come out typed: each row shape is a frozen dataclass below, filled by psycopg's `class_row`
(reads select exactly the dataclass's fields) or, for the audited writes of `hrms.db.crud` (which
return dict rows), by `_typed`. The month's calculation is one statement of its own module
(`hrms.payroll.calculation`, beside the rules it implements); it is run from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import psycopg
from psycopg import sql

from hrms.db import crud, rows
from hrms.db.postgres import TenantTx
from hrms.errors import Invalid
from hrms.payroll import calculation
from hrms.payroll.models import RunStatus

Json = list[dict[str, object]]  # a jsonb array of objects (components), validated by the models

RUNS = "payroll_runs"
RECORDS = "payroll"
STRUCTURES = "salary_structures"
SALARIES = "employee_salaries"
RUN = "payroll_run"
STRUCTURE = "salary_structure"
SALARY = "employee_salary"


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class RunRow:
    """A `payroll_runs` row."""

    id: UUID
    month: dt.date
    status: RunStatus
    employee_count: int
    total_gross: Decimal
    total_deductions: Decimal
    total_net: Decimal
    approval_id: UUID | None
    created_by: UUID | None
    created_at: dt.datetime
    approved_at: dt.datetime | None
    processed_at: dt.datetime | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class RecordRow:
    """A `payroll` row (one employee's line of a run) with the employee's code and name."""

    id: UUID
    payroll_run_id: UUID
    employee_id: UUID
    employee_code: str
    employee_name: str
    department_id: UUID | None
    month: dt.date
    paid_days: Decimal
    gross: Decimal
    deductions: Decimal
    net: Decimal
    components: Json


@dataclass(frozen=True)
class NegativeLine:
    """A record whose net is below zero; `total` is how many the run has in all."""

    employee_id: UUID
    employee_code: str
    employee_name: str
    gross: Decimal
    deductions: Decimal
    net: Decimal
    total: int


@dataclass(frozen=True)
class Fingerprint:
    """What a run's records say, in one comparable value: their count and a digest of every line."""

    employees: int
    digest: str | None


@dataclass(frozen=True)
class PayComparison:
    """One employee's line in a run beside their line of the last processed run before it."""

    gross: Decimal
    deductions: Decimal
    net: Decimal
    b_gross: Decimal | None
    b_deductions: Decimal | None
    b_net: Decimal | None
    comparable: bool  # there is an earlier processed run


@dataclass(frozen=True)
class DepartmentRow:
    department_id: UUID | None
    department_name: str | None
    headcount: int
    gross: Decimal
    net: Decimal


@dataclass(frozen=True)
class StructureRow:
    """A `salary_structures` row."""

    id: UUID
    name: str
    components: Json
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class SalaryRow:
    """An `employee_salaries` row."""

    id: UUID
    employee_id: UUID
    salary_structure_id: UUID | None
    annual_ctc: Decimal
    components: Json
    effective_from: dt.date
    created_at: dt.datetime


# ---------------------------------------------------------------- payroll runs


def claim_month(tx: TenantTx, run_id: UUID, month: dt.date, created_by: UUID | None) -> bool:
    """Insert the month's draft run `run_id`; False if a run that is not rejected holds the month
    (waits for a concurrent claim to commit or roll back)."""
    query = sql.SQL(
        "INSERT INTO {} (id, month, created_by) VALUES (%s, %s, %s)"
        " ON CONFLICT (month) WHERE status <> 'rejected' DO NOTHING RETURNING id"
    ).format(tx.t(RUNS))
    return rows.scalar(tx, query, (run_id, month, created_by)) is not None


def live_run(tx: TenantTx, month: dt.date) -> RunRow | None:
    """The month's run that is not rejected (at most one)."""
    query = sql.SQL("SELECT {} FROM {} WHERE month = %s AND status <> 'rejected'").format(
        rows.columns(RunRow), tx.t(RUNS)
    )
    return rows.one(tx, RunRow, query, (month,))


def run(tx: TenantTx, run_id: UUID, *, for_update: bool = False) -> RunRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(rows.columns(RunRow), tx.t(RUNS))
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    return rows.one(tx, RunRow, query, (run_id,))


def runs_page(
    tx: TenantTx, month: dt.date | None, status: str | None, after: tuple[dt.date, UUID] | None, limit: int
) -> list[RunRow]:
    """Up to `limit` runs by (month, id) descending, strictly after `after`, optionally of one month or status."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE (%(month)s::date IS NULL OR month = %(month)s)"
        " AND (%(status)s::text IS NULL OR status = %(status)s)"
        " AND (%(after_month)s::date IS NULL OR (month, id) < (%(after_month)s, %(after_id)s))"
        " ORDER BY month DESC, id DESC LIMIT %(limit)s"
    ).format(rows.columns(RunRow), tx.t(RUNS))
    params = {
        "month": month,
        "status": status,
        "after_month": after[0] if after else None,
        "after_id": after[1] if after else None,
        "limit": limit,
    }
    return rows.many(tx, RunRow, query, params)


def update_run(tx: TenantTx, run_id: UUID, changes: Mapping[str, object]) -> RunRow:
    """Audited (`payroll_run.updated`)."""
    return crud.update(tx, RUNS, RUN, run_id, changes, RunRow)


def records_page(
    tx: TenantTx, run_id: UUID, department_id: UUID | None, after: str | None, limit: int
) -> list[RecordRow]:
    """Up to `limit` lines of the run by employee code, strictly after `after`, optionally of one department."""
    query = sql.SQL(
        "SELECT p.id, p.payroll_run_id, p.employee_id, e.employee_code,"
        " e.first_name || ' ' || e.last_name AS employee_name, p.department_id, p.month, p.paid_days,"
        " p.gross, p.deductions, p.net, p.components"
        " FROM {payroll} p JOIN {employees} e ON e.id = p.employee_id"
        " WHERE p.payroll_run_id = %(run)s"
        " AND (%(department)s::uuid IS NULL OR p.department_id = %(department)s)"
        " AND (%(after)s::text IS NULL OR e.employee_code > %(after)s)"
        " ORDER BY e.employee_code LIMIT %(limit)s"
    ).format(payroll=tx.t(RECORDS), employees=tx.t("employees"))
    params = {"run": run_id, "department": department_id, "after": after, "limit": limit}
    return rows.many(tx, RecordRow, query, params)


# ---------------------------------------------------------------- the month's calculation


def compute_and_write(
    tx: TenantTx, run_id: UUID, month: dt.date, weekend: Collection[int], approval_id: UUID | None
) -> RunRow:
    """Write the month's records of run `run_id`, set its totals and approval; the run afterwards."""
    query = sql.SQL(calculation.COMPUTE_AND_WRITE).format(
        returning=rows.columns(RunRow, "run"), **{name: tx.t(name) for name in calculation.TABLES}
    )
    params = {"run": run_id, "month": month, "weekend": sorted(weekend), "approval": approval_id}
    try:
        row = rows.one(tx, RunRow, query, params)
    except psycopg.errors.NumericValueOutOfRange as exc:  # the transaction is rolled back by the raise
        raise Invalid(
            f"The pay of {month:%Y-%m} exceeds what payroll records hold (at most 999,999,999,999.99 for one"
            " employee in a month): correct the salaries or salary structures, then run the month again."
        ) from exc
    if row is None:
        raise LookupError(f"payroll run {run_id} vanished while it was being computed")
    return row


def negative_lines(tx: TenantTx, run_id: UUID, limit: int) -> list[NegativeLine]:
    """The run's records with a negative net, by employee code, at most `limit` of them."""
    query = sql.SQL(
        "SELECT p.employee_id, e.employee_code, e.first_name || ' ' || e.last_name AS employee_name,"
        " p.gross, p.deductions, p.net, count(*) OVER () AS total"
        " FROM {payroll} p JOIN {employees} e ON e.id = p.employee_id"
        " WHERE p.payroll_run_id = %s AND p.net < 0"
        " ORDER BY e.employee_code, p.employee_id"
        " LIMIT %s"
    ).format(payroll=tx.t(RECORDS), employees=tx.t("employees"))
    return rows.many(tx, NegativeLine, query, (run_id, limit))


def fingerprint(tx: TenantTx, run_id: UUID) -> Fingerprint:
    query = sql.SQL(
        "SELECT count(*) AS employees,"
        " md5(string_agg(concat_ws('|', employee_id, paid_days, gross, deductions, net, components), ','"
        " ORDER BY employee_id)) AS digest"
        " FROM {} WHERE payroll_run_id = %s"
    ).format(tx.t(RECORDS))
    found = rows.one(tx, Fingerprint, query, (run_id,))
    assert found is not None  # an aggregate without GROUP BY: always one row
    return found


def insert_scratch_run(tx: TenantTx, month: dt.date) -> UUID:
    """A rejected run of `month` (it holds no month) to compute records into and throw away; not audited."""
    query = sql.SQL("INSERT INTO {} (month, status) VALUES (%s, 'rejected') RETURNING id").format(tx.t(RUNS))
    run_id = rows.scalar(tx, query, (month,))
    assert isinstance(run_id, UUID)
    return run_id


# ---------------------------------------------------------------- approval duties


def another_approver_exists(tx: TenantTx, creator: UUID, role: str | None) -> bool:
    """An active user other than `creator`, not left, who may approve payroll: an admin, or of `role`
    with payroll:approve."""
    query = sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM {users} u"
        " LEFT JOIN {roles} r ON r.role = u.role LEFT JOIN {employees} e ON e.id = u.employee_id"
        " WHERE u.id <> %(creator)s AND u.status = 'active'"
        " AND (e.date_of_leaving IS NULL OR e.date_of_leaving > current_date)"
        " AND (u.role = 'admin' OR u.role = %(role)s AND r.permissions && ARRAY['*', 'payroll:approve']))"
    ).format(users=tx.t("users"), roles=tx.t("role_permissions"), employees=tx.t("employees"))
    return bool(rows.scalar(tx, query, {"creator": creator, "role": role}))


def pay_comparison(tx: TenantTx, run: RunRow, employee_id: UUID) -> PayComparison | None:
    """The employee's line in `run` and in the last processed run before it; None if `run` has no line of theirs."""
    query = sql.SQL(
        "SELECT mine.gross, mine.deductions, mine.net, before.gross AS b_gross, before.deductions AS b_deductions,"
        " before.net AS b_net, last.id IS NOT NULL AS comparable"
        " FROM {payroll} mine"
        " LEFT JOIN LATERAL (SELECT id FROM {runs} WHERE status = 'processed' AND month < %(month)s"
        "  ORDER BY month DESC LIMIT 1) last ON true"
        " LEFT JOIN {payroll} before ON before.payroll_run_id = last.id AND before.employee_id = mine.employee_id"
        " WHERE mine.payroll_run_id = %(run)s AND mine.employee_id = %(me)s"
    ).format(payroll=tx.t(RECORDS), runs=tx.t(RUNS))
    return rows.one(tx, PayComparison, query, {"run": run.id, "month": run.month, "me": employee_id})


# ---------------------------------------------------------------- stats


def by_department(tx: TenantTx, run_id: UUID) -> list[DepartmentRow]:
    """The run's headcount, gross and net per department, by department name (no department last)."""
    query = sql.SQL(
        "SELECT p.department_id, d.name AS department_name, count(*) AS headcount, sum(p.gross) AS gross,"
        " sum(p.net) AS net"
        " FROM {payroll} p LEFT JOIN {departments} d ON d.id = p.department_id"
        " WHERE p.payroll_run_id = %s"
        " GROUP BY p.department_id, d.name"
        " ORDER BY d.name NULLS LAST, p.department_id"
    ).format(payroll=tx.t(RECORDS), departments=tx.t("departments"))
    return rows.many(tx, DepartmentRow, query, (run_id,))


# ---------------------------------------------------------------- salary structures and salaries


def structures_page(tx: TenantTx, after: str | None, limit: int) -> list[StructureRow]:
    """Up to `limit` structures by lower-case name, strictly after `after`."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE %(after)s::text IS NULL OR lower(name) > %(after)s"
        " ORDER BY lower(name) LIMIT %(limit)s"
    ).format(rows.columns(StructureRow), tx.t(STRUCTURES))
    return rows.many(tx, StructureRow, query, {"after": after, "limit": limit})


def structure(tx: TenantTx, structure_id: UUID) -> StructureRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(rows.columns(StructureRow), tx.t(STRUCTURES))
    return rows.one(tx, StructureRow, query, (structure_id,))


def insert_structure(tx: TenantTx, values: Mapping[str, object]) -> StructureRow:
    """Audited (`salary_structure.created`)."""
    return crud.insert(tx, STRUCTURES, STRUCTURE, values, StructureRow)


def update_structure(tx: TenantTx, structure_id: UUID, changes: Mapping[str, object]) -> StructureRow:
    """Audited (`salary_structure.updated`); 404 for a structure that does not exist."""
    return crud.update(tx, STRUCTURES, STRUCTURE, structure_id, changes, StructureRow)


def insert_salary(tx: TenantTx, values: Mapping[str, object]) -> SalaryRow:
    """Audited (`employee_salary.created`)."""
    return crud.insert(tx, SALARIES, SALARY, values, SalaryRow)


def salaries_page(tx: TenantTx, employee_id: UUID, after: dt.date | None, limit: int) -> list[SalaryRow]:
    """Up to `limit` of the employee's salaries, newest `effective_from` first, strictly before `after`."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE employee_id = %(employee)s"
        " AND (%(after)s::date IS NULL OR effective_from < %(after)s)"
        " ORDER BY effective_from DESC LIMIT %(limit)s"
    ).format(rows.columns(SalaryRow), tx.t(SALARIES))
    return rows.many(tx, SalaryRow, query, {"employee": employee_id, "after": after, "limit": limit})


def last_settled_month(tx: TenantTx, effective_from: dt.date) -> str | None:
    """The latest month (`YYYY-MM`) from `effective_from`'s month on whose run is approved or processed."""
    query = sql.SQL(
        "SELECT to_char(max(month), 'YYYY-MM') FROM {}"
        " WHERE status IN ('approved', 'processed') AND month >= date_trunc('month', %s::date)"
    ).format(tx.t(RUNS))
    month = rows.scalar(tx, query, (effective_from,))
    return str(month) if month else None
