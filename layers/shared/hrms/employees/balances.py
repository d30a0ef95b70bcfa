"""Leave balances of an employee: initialised pro rata on hire, re-prorated when the joining date is
corrected, read per year."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.db import audit_log
from hrms.db.postgres import TenantTx

Row = dict[str, Any]


def months_remaining(joined: dt.date) -> int:
    """Months of the joining year from the joining month to December, both included."""
    return 13 - joined.month


def pro_rata(annual_quota: Decimal, joined: dt.date) -> Decimal:
    """`annual_quota * remaining months / 12`, rounded to the nearest half day (halves round up)."""
    exact = Decimal(annual_quota) * months_remaining(joined) / 12
    return (exact * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def initialise(tx: TenantTx, employee_id: UUID, joined: dt.date, *, reprorate: bool = False) -> dict[str, Decimal]:
    """A balance row per active leave type for the joining year (the guide's initializeLeaveBalance).

    Returns {leave type code: allocated days}. An existing row for the year is left as it is, or with
    `reprorate` (a corrected joining date) given the new allocation.
    """
    types = tx.execute(
        sql.SQL("SELECT id, code, annual_quota FROM {} WHERE is_active ORDER BY code").format(tx.t("leave_types"))
    ).fetchall()
    allocated = {t["code"]: pro_rata(t["annual_quota"], joined) for t in types}
    on_conflict = "DO UPDATE SET allocated = EXCLUDED.allocated, updated_at = now()" if reprorate else "DO NOTHING"
    tx.execute(
        sql.SQL(
            "INSERT INTO {} (employee_id, leave_type_id, year, allocated)"
            " SELECT %s, t.id, %s, t.allocated FROM unnest(%s::uuid[], %s::numeric[]) AS t(id, allocated)"
            " ON CONFLICT (employee_id, leave_type_id, year) {}"
        ).format(tx.t("employee_leave_balance"), sql.SQL(on_conflict)),
        (employee_id, joined.year, [t["id"] for t in types], [allocated[t["code"]] for t in types]),
    )
    audit_log.record(
        tx,
        "leave_balance.reprorated" if reprorate else "leave_balance.initialised",
        "employee",
        employee_id,
        None,
        {"year": joined.year, "allocated": {code: str(days) for code, days in allocated.items()}},
    )
    return allocated


def joining_corrections(tx: TenantTx, employee_id: UUID, old: dt.date, new: dt.date) -> list[Row]:
    """Why the joining date may not move from `old` to `new` (field errors); empty if it may.

    Within one year the joining year's allocations are re-prorated, so none may fall below what is
    already used or pending. Across years the balance rows would move, so nothing may be booked in the
    old joining year. Either way no pending or approved leave may start before the new date, and no
    payroll (not rejected) may have been run for a month up to the later joining month.
    """
    problems: list[str] = []
    balances = tx.execute(
        sql.SQL(
            "SELECT lt.code, lt.annual_quota, b.used + b.pending AS booked FROM {balance} b"
            " JOIN {types} lt ON lt.id = b.leave_type_id"
            " WHERE b.employee_id = %s AND b.year = %s AND b.used + b.pending > 0"
        ).format(balance=tx.t("employee_leave_balance"), types=tx.t("leave_types")),
        (employee_id, old.year),
    ).fetchall()
    for row in balances:
        if new.year != old.year or pro_rata(row["annual_quota"], new) < row["booked"]:
            problems.append(f"{row['booked']} day(s) of {row['code']} leave are booked in {old.year}")
    early = tx.execute(
        sql.SQL(
            "SELECT count(*) AS n FROM {} WHERE employee_id = %s AND status IN ('pending', 'approved')"
            " AND start_date < %s"
        ).format(tx.t("leaves")),
        (employee_id, new),
    ).fetchone()
    if early and early["n"]:
        problems.append(f"{early['n']} leave(s) start before {new.isoformat()}")
    paid = tx.execute(
        sql.SQL(
            "SELECT to_char(max(p.month), 'YYYY-MM') AS month"
            " FROM {payroll} p JOIN {runs} r ON r.id = p.payroll_run_id"
            " WHERE p.employee_id = %s AND r.status <> 'rejected' AND p.month <= date_trunc('month', %s::date)"
        ).format(payroll=tx.t("payroll"), runs=tx.t("payroll_runs")),
        (employee_id, max(old, new)),
    ).fetchone()
    if paid and paid["month"]:
        problems.append(f"payroll has been run for {paid['month']}")
    return [{"field": "body.dateOfJoining", "type": "joining_date_in_use", "message": p} for p in problems]


def correct_joining(tx: TenantTx, employee_id: UUID, old: dt.date, new: dt.date) -> None:
    """Re-prorate (or, across years, move) the joining year's balances after `joining_corrections` allowed it."""
    if new.year != old.year:
        tx.execute(
            sql.SQL("DELETE FROM {} WHERE employee_id = %s AND year = %s").format(tx.t("employee_leave_balance")),
            (employee_id, old.year),
        )
    initialise(tx, employee_id, new, reprorate=True)


def for_year(tx: TenantTx, employee_id: UUID, year: int) -> list[Row]:
    return tx.execute(
        sql.SQL(
            "SELECT b.leave_type_id, lt.code, b.year, b.allocated, b.carried_forward, b.used, b.pending,"
            " b.allocated + b.carried_forward - b.used - b.pending AS available"
            " FROM {balance} b JOIN {types} lt ON lt.id = b.leave_type_id"
            " WHERE b.employee_id = %s AND b.year = %s ORDER BY lt.code"
        ).format(balance=tx.t("employee_leave_balance"), types=tx.t("leave_types")),
        (employee_id, year),
    ).fetchall()
