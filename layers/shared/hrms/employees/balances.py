"""Leave balances of an employee: initialised pro rata on hire, read per year."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms import audit
from hrms.db.postgres import TenantTx

Row = dict[str, Any]


def months_remaining(joined: dt.date) -> int:
    """Months of the joining year from the joining month to December, both included."""
    return 13 - joined.month


def pro_rata(annual_quota: Decimal, joined: dt.date) -> Decimal:
    """`annual_quota * remaining months / 12`, rounded to the nearest half day (halves round up)."""
    exact = Decimal(annual_quota) * months_remaining(joined) / 12
    return (exact * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def initialise(tx: TenantTx, employee_id: UUID, joined: dt.date) -> dict[str, Decimal]:
    """A balance row per active leave type for the joining year (the guide's initializeLeaveBalance).

    Returns {leave type code: allocated days}. An existing row for the year is left as it is.
    """
    types = tx.execute(
        sql.SQL("SELECT id, code, annual_quota FROM {} WHERE is_active ORDER BY code").format(tx.t("leave_types"))
    ).fetchall()
    allocated = {t["code"]: pro_rata(t["annual_quota"], joined) for t in types}
    tx.execute(
        sql.SQL(
            "INSERT INTO {} (employee_id, leave_type_id, year, allocated)"
            " SELECT %s, t.id, %s, t.allocated FROM unnest(%s::uuid[], %s::numeric[]) AS t(id, allocated)"
            " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING"
        ).format(tx.t("employee_leave_balance")),
        (employee_id, joined.year, [t["id"] for t in types], [allocated[t["code"]] for t in types]),
    )
    audit.record(
        tx,
        "leave_balance.initialised",
        "employee",
        employee_id,
        None,
        {"year": joined.year, "allocated": {code: str(days) for code, days in allocated.items()}},
    )
    return allocated


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
