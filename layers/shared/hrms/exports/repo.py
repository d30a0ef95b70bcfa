"""SQL of the exports domain: the `exports` job table, and the reads each export kind streams.

Every table through `tx.t(...)`, every value bound. The reads are keyset batches (`_stream`: `BATCH`
rows per query, ordered by a unique key, each query starting after the last row of the one before),
all in the worker's one transaction: memory stays flat with the tenant's size, and no server-side cursor
pins a connection behind RDS Proxy. Rows never carry PAN/Aadhaar ciphertext: only the masked forms that
`hrms.employees` stores beside them, exactly what `GET /employees` shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from psycopg import sql

from hrms.db import audit_log, crud, rows
from hrms.db.postgres import TenantTx

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

TABLE = "exports"
ENTITY = "export"
BATCH = 500


# ---------------------------------------------------------------- row shapes


@dataclass(frozen=True)
class ExportRow:
    """An `exports` row: one export job."""

    id: UUID
    kind: str
    format: str
    period: str
    payroll_run_id: UUID | None
    status: str
    row_count: int | None
    object_key: str | None
    failure: str | None
    requested_by: UUID | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class EmployeeLine:
    employee_code: str
    email: str
    first_name: str
    last_name: str
    department_code: str | None
    department_name: str | None
    designation_title: str | None
    manager_email: str | None
    date_of_joining: dt.date
    date_of_leaving: dt.date | None
    status: str
    employment_type: str
    phone: str | None
    pan_masked: str | None
    aadhaar_masked: str | None


@dataclass(frozen=True)
class ComponentColumn:
    """A component of a run's lines: one column of the register per (kind, code)."""

    kind: str
    code: str


@dataclass(frozen=True)
class PayrollLine:
    employee_code: str
    email: str
    first_name: str
    last_name: str
    department_code: str | None
    department_name: str | None
    paid_days: Decimal
    gross: Decimal
    deductions: Decimal
    net: Decimal
    components: Any  # [{code, name, kind, amount (text)}], as the calculation wrote them


@dataclass(frozen=True)
class BalanceLine:
    employee_code: str
    first_name: str
    last_name: str
    leave_type: str
    leave_type_id: UUID
    allocated: Decimal
    carried_forward: Decimal
    adjusted: Decimal
    used: Decimal
    pending: Decimal
    available: Decimal


@dataclass(frozen=True)
class RequestLine:
    id: UUID
    employee_code: str
    first_name: str
    last_name: str
    leave_type: str
    start_date: dt.date
    end_date: dt.date
    half_day: str | None
    days: Decimal
    status: str
    reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


# ---------------------------------------------------------------- the job table


def insert(tx: TenantTx, values: Mapping[str, object]) -> ExportRow:
    """Audited (`export.created`: who exported what, and when)."""
    return crud.insert(tx, TABLE, ENTITY, values, ExportRow)


def get(tx: TenantTx, export_id: UUID) -> ExportRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(rows.columns(ExportRow), tx.t(TABLE))
    return rows.one(tx, ExportRow, query, (export_id,))


def claim(tx: TenantTx, export_id: UUID) -> ExportRow | None:
    """queued -> running, or None when the job is not queued (already running or finished, or none)."""
    query = sql.SQL(
        "UPDATE {} SET status = 'running', started_at = now(), updated_at = now()"
        " WHERE id = %s AND status = 'queued' RETURNING {}"
    ).format(tx.t(TABLE), rows.columns(ExportRow))
    claimed = rows.one(tx, ExportRow, query, (export_id,))
    if claimed is not None:
        audit_log.record(tx, f"{ENTITY}.started", ENTITY, export_id, None, {"status": "running"})
    return claimed


def finish(tx: TenantTx, export_id: UUID, changes: Mapping[str, object]) -> ExportRow:
    """running -> succeeded or failed. Audited (`export.updated`)."""
    finished = {**changes, "finished_at": dt.datetime.now(dt.UTC)}
    return crud.update(tx, TABLE, ENTITY, export_id, finished, ExportRow)


# ---------------------------------------------------------------- what each kind exports


def employees(tx: TenantTx) -> Iterator[EmployeeLine]:
    """Every employee (terminated ones too), by employee code."""
    select = sql.SQL(
        "SELECT e.employee_code, e.email, e.first_name, e.last_name, d.code AS department_code,"
        " d.name AS department_name, g.title AS designation_title, m.email AS manager_email,"
        " e.date_of_joining, e.date_of_leaving, e.status, e.employment_type, e.phone, e.pan_masked, e.aadhaar_masked"
        " FROM {employees} e LEFT JOIN {departments} d ON d.id = e.department_id"
        " LEFT JOIN {designations} g ON g.id = e.designation_id LEFT JOIN {employees} m ON m.id = e.manager_id"
        " WHERE {after} ORDER BY e.employee_code LIMIT {batch}"
    )
    tables = {"employees": tx.t("employees"), "departments": tx.t("departments"), "designations": tx.t("designations")}
    return _stream(tx, EmployeeLine, select, tables, ("e.employee_code",), lambda r: (r.employee_code,), {})


def component_columns(tx: TenantTx, run_id: UUID) -> list[ComponentColumn]:
    """The components of a run's lines: earnings first, then deductions, each in the structures' order."""
    query = sql.SQL(
        "SELECT c.item->>'kind' AS kind, c.item->>'code' AS code FROM {} p"
        " CROSS JOIN LATERAL jsonb_array_elements(p.components) WITH ORDINALITY AS c(item, ord)"
        " WHERE p.payroll_run_id = %s GROUP BY 1, 2 ORDER BY (c.item->>'kind') = 'deduction', min(c.ord), 2"
    ).format(tx.t("payroll"))
    return rows.many(tx, ComponentColumn, query, (run_id,))


def payroll_lines(tx: TenantTx, run_id: UUID) -> Iterator[PayrollLine]:
    """The run's lines (one per employee) by employee code; the department is the run's."""
    select = sql.SQL(
        "SELECT e.employee_code, e.email, e.first_name, e.last_name, d.code AS department_code,"
        " d.name AS department_name, p.paid_days, p.gross, p.deductions, p.net, p.components"
        " FROM {payroll} p JOIN {employees} e ON e.id = p.employee_id"
        " LEFT JOIN {departments} d ON d.id = p.department_id"
        " WHERE p.payroll_run_id = %(run)s AND {after} ORDER BY e.employee_code LIMIT {batch}"
    )
    tables = {"payroll": tx.t("payroll"), "employees": tx.t("employees"), "departments": tx.t("departments")}
    return _stream(tx, PayrollLine, select, tables, ("e.employee_code",), lambda r: (r.employee_code,), {"run": run_id})


def balances(tx: TenantTx, year: int) -> Iterator[BalanceLine]:
    """The balance rows of leave year `year`, by employee code and leave type code."""
    select = sql.SQL(
        "SELECT e.employee_code, e.first_name, e.last_name, t.code AS leave_type, b.leave_type_id, b.allocated,"
        " b.carried_forward, b.adjusted, b.used, b.pending,"
        " b.allocated + b.carried_forward + b.adjusted - b.used - b.pending AS available"
        " FROM {balances} b JOIN {employees} e ON e.id = b.employee_id JOIN {types} t ON t.id = b.leave_type_id"
        " WHERE b.year = %(year)s AND {after} ORDER BY e.employee_code, t.code, b.leave_type_id LIMIT {batch}"
    )
    tables = {"balances": tx.t("employee_leave_balance"), "employees": tx.t("employees"), "types": tx.t("leave_types")}
    key = ("e.employee_code", "t.code", "b.leave_type_id")
    return _stream(
        tx, BalanceLine, select, tables, key, lambda r: (r.employee_code, r.leave_type, r.leave_type_id), {"year": year}
    )


def requests(tx: TenantTx, year: int) -> Iterator[RequestLine]:
    """The leave requests whose days count against leave year `year` (every status), by employee and date."""
    select = sql.SQL(
        "SELECT l.id, e.employee_code, e.first_name, e.last_name, t.code AS leave_type, l.start_date, l.end_date,"
        " l.half_day, l.days, l.status, l.reason, l.created_at, l.decided_at"
        " FROM {leaves} l JOIN {employees} e ON e.id = l.employee_id JOIN {types} t ON t.id = l.leave_type_id"
        " WHERE l.balance_year = %(year)s AND {after} ORDER BY e.employee_code, l.start_date, l.id LIMIT {batch}"
    )
    tables = {"leaves": tx.t("leaves"), "employees": tx.t("employees"), "types": tx.t("leave_types")}
    key = ("e.employee_code", "l.start_date", "l.id")
    return _stream(
        tx, RequestLine, select, tables, key, lambda r: (r.employee_code, r.start_date, r.id), {"year": year}
    )


def _stream(
    tx: TenantTx,
    shape: type[R],
    select: sql.SQL,
    tables: Mapping[str, sql.Composable],
    key: Sequence[str],
    key_of: Callable[[R], tuple[object, ...]],
    params: Mapping[str, object],
) -> Iterator[R]:
    """Every row of `select` in `BATCH`-row queries. `select` orders by `key` (unique, never null) and
    has the placeholders `{after}` (the keyset condition) and `{batch}`."""
    columns = sql.SQL(", ").join(sql.SQL(k) for k in key)
    marks = sql.SQL(", ").join(sql.Placeholder(f"after_{i}") for i in range(len(key)))
    after: tuple[object, ...] | None = None
    while True:
        condition = sql.SQL("TRUE") if after is None else sql.SQL("({}) > ({})").format(columns, marks)
        query = select.format(after=condition, batch=sql.Literal(BATCH), **tables)
        bound = {**params, **({f"after_{i}": v for i, v in enumerate(after)} if after else {})}
        batch = rows.many(tx, shape, query, bound)
        yield from batch
        if len(batch) < BATCH:
            return
        after = key_of(batch[-1])
