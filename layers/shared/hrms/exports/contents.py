"""What each kind of export holds: its sheets, their columns, and a row per record.

- employees: one row per employee (terminated ones too), by employee code. PAN and Aadhaar only
  masked, exactly as `GET /employees` shows them (the masked forms stored beside the ciphertext,
  which is never read here).
- payroll-register: one row per employee line of the job's run, by employee code: paid days, one
  column per component headed `<code> (earning)` or `<code> (deduction)` (earnings first, each in
  the structures' order; empty where the employee's structure has no such component), then gross,
  deductions and net. Amounts are the run's rounded decimals, never floats.
- leave: two sheets, `balances` (every balance row of the leave year) and `requests` (every request
  whose days count against that year, any status). A CSV holds both as one table with a `section`
  column (`hrms.exports.sheets`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from hrms.db.postgres import TenantTx
from hrms.errors import Conflict
from hrms.exports import repo
from hrms.exports.repo import ExportRow
from hrms.exports.sheets import Cell, Sheet, open_writer
from hrms.payroll import repo as payroll

EMPLOYEES = Sheet(
    "employees",
    (
        "employeeCode",
        "email",
        "firstName",
        "lastName",
        "departmentCode",
        "departmentName",
        "designationTitle",
        "managerEmail",
        "dateOfJoining",
        "dateOfLeaving",
        "status",
        "employmentType",
        "phone",
        "panMasked",
        "aadhaarMasked",
    ),
)
PAYROLL_LEADING = ("employeeCode", "email", "firstName", "lastName", "departmentCode", "departmentName", "paidDays")
PAYROLL_TRAILING = ("gross", "deductions", "net")
BALANCES = Sheet(
    "balances",
    (
        "employeeCode",
        "firstName",
        "lastName",
        "leaveType",
        "allocated",
        "carriedForward",
        "adjusted",
        "used",
        "pending",
        "available",
    ),
)
REQUESTS = Sheet(
    "requests",
    (
        "employeeCode",
        "firstName",
        "lastName",
        "leaveType",
        "startDate",
        "endDate",
        "halfDay",
        "days",
        "status",
        "reason",
        "requestedAtUtc",
        "decidedAtUtc",
    ),
)


def write(tx: TenantTx, job: ExportRow, path: Path) -> int:
    """Write the job's file at `path`; the number of data rows."""
    return KINDS[job.kind](tx, job, path)


def _employees(tx: TenantTx, job: ExportRow, path: Path) -> int:
    with open_writer(job.format, path, [EMPLOYEES]) as writer:
        for e in repo.employees(tx):
            values: list[Cell] = [
                e.employee_code,
                e.email,
                e.first_name,
                e.last_name,
                e.department_code,
                e.department_name,
                e.designation_title,
                e.manager_email,
                e.date_of_joining,
                e.date_of_leaving,
                e.status,
                e.employment_type,
                e.phone,
                e.pan_masked,
                e.aadhaar_masked,
            ]
            writer.write(EMPLOYEES, values)
    return writer.rows


def _payroll_register(tx: TenantTx, job: ExportRow, path: Path) -> int:
    assert job.payroll_run_id is not None
    run = payroll.run(tx, job.payroll_run_id)
    if run is None or run.status == "rejected":
        raise Conflict("The payroll run was rejected after the export was requested; request the export again.")
    components = [(c.kind, c.code) for c in repo.component_columns(tx, run.id)]
    sheet = Sheet(
        "payroll register",
        (*PAYROLL_LEADING, *(f"{code} ({kind})" for kind, code in components), *PAYROLL_TRAILING),
    )
    with open_writer(job.format, path, [sheet]) as writer:
        for line in repo.payroll_lines(tx, run.id):
            amounts = {(c["kind"], c["code"]): Decimal(c["amount"]) for c in line.components}
            values: list[Cell] = [
                line.employee_code,
                line.email,
                line.first_name,
                line.last_name,
                line.department_code,
                line.department_name,
                line.paid_days,
                *(amounts.get(c) for c in components),
                line.gross,
                line.deductions,
                line.net,
            ]
            writer.write(sheet, values)
    return writer.rows


def _leave(tx: TenantTx, job: ExportRow, path: Path) -> int:
    year = int(job.period)
    with open_writer(job.format, path, [BALANCES, REQUESTS]) as writer:
        for b in repo.balances(tx, year):
            balance: list[Cell] = [b.employee_code, b.first_name, b.last_name, b.leave_type, b.allocated]
            writer.write(BALANCES, [*balance, b.carried_forward, b.adjusted, b.used, b.pending, b.available])
        for r in repo.requests(tx, year):
            request: list[Cell] = [r.employee_code, r.first_name, r.last_name, r.leave_type, r.start_date, r.end_date]
            writer.write(REQUESTS, [*request, r.half_day, r.days, r.status, r.reason, r.created_at, r.decided_at])
    return writer.rows


KINDS: dict[str, Callable[[TenantTx, ExportRow, Path], int]] = {
    "employees": _employees,
    "payroll-register": _payroll_register,
    "leave": _leave,
}
