"""SQL of the leave domain; every table through `tx.t(...)`, every value bound."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import sql

from hrms.auth.scope import Visibility
from hrms.db import audit_log, crud
from hrms.db.postgres import TenantTx

Row = dict[str, Any]

LEAVES = "leaves"
TYPES = "leave_types"
BALANCE = "employee_leave_balance"
_LEAVE_COLUMNS = sql.SQL("l.*, lt.code AS leave_type_code")


@dataclass(frozen=True)
class OrgCalendar:
    """The organisation settings leave arithmetic needs."""

    weekend: frozenset[int]
    year_start_month: int
    zone: ZoneInfo

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()


@dataclass(frozen=True)
class Filters:
    employee_id: UUID | None = None
    leave_type_id: UUID | None = None
    status: str | None = None
    start: dt.date | None = None  # leaves ending on or after
    end: dt.date | None = None  # leaves starting on or before


def calendar(tx: TenantTx) -> OrgCalendar:
    """The tenant's working calendar: the versioned settings (MongoDB) over `organization_settings`."""
    from hrms.settings.service import effective_settings  # lazy: only leave operations need MongoDB

    rows = tx.execute(
        sql.SQL("SELECT key, value FROM {} WHERE key IN ('weekendDays', 'leaveYearStartMonth', 'timezone')").format(
            tx.t("organization_settings")
        )
    ).fetchall()
    values = effective_settings(tx.tenant, {row["key"]: row["value"] for row in rows})
    weekend = values.get("weekendDays")
    if not isinstance(weekend, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in weekend):
        weekend = [6, 7]
    month = values.get("leaveYearStartMonth")
    if not isinstance(month, int) or not 1 <= month <= 12:
        month = 1
    try:
        zone = ZoneInfo(str(values.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return OrgCalendar(frozenset(weekend), month, zone)


def holidays(tx: TenantTx, start: dt.date, end: dt.date) -> set[dt.date]:
    rows = tx.execute(
        sql.SQL("SELECT date FROM {} WHERE date BETWEEN %s AND %s").format(tx.t("holidays")), (start, end)
    ).fetchall()
    return {row["date"] for row in rows}


# ---------------------------------------------------------------- leave types


def leave_types(tx: TenantTx, after: str | None, limit: int) -> list[Row]:
    return tx.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE (%(after)s::text IS NULL OR lower(code) > %(after)s)"
            " ORDER BY lower(code) LIMIT %(limit)s"
        ).format(tx.t(TYPES)),
        {"after": after, "limit": limit},
    ).fetchall()


def leave_type(tx: TenantTx, leave_type_id: UUID) -> Row | None:
    return crud.get(tx, TYPES, leave_type_id)


def insert_leave_type(tx: TenantTx, values: dict[str, Any]) -> Row:
    return crud.insert(tx, TYPES, "leave_type", values)


def update_leave_type(tx: TenantTx, leave_type_id: UUID, changes: dict[str, Any]) -> Row:
    return crud.update(tx, TYPES, "leave_type", leave_type_id, changes)


def allocate_new_type(tx: TenantTx, leave_type: Row, year: int, bounds: tuple[dt.date, dt.date]) -> int:
    """Balance rows of a new type for leave year `year` (`bounds`), for everyone employed during it."""
    rows = tx.execute(
        sql.SQL(
            "INSERT INTO {balance} (employee_id, leave_type_id, year, allocated)"
            " SELECT e.id, %(type)s, %(year)s, %(quota)s FROM {employees} e"
            " WHERE e.date_of_joining <= %(end)s AND (e.date_of_leaving IS NULL OR e.date_of_leaving >= %(start)s)"
            " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING RETURNING employee_id"
        ).format(balance=tx.t(BALANCE), employees=tx.t("employees")),
        {
            "type": leave_type["id"],
            "year": year,
            "quota": leave_type["annual_quota"],
            "start": bounds[0],
            "end": bounds[1],
        },
    ).fetchall()
    return len(rows)


# ---------------------------------------------------------------- leaves


def lock_employee(tx: TenantTx, employee_id: UUID) -> None:
    """Serialise one employee's requests (the overlap check), without blocking inserts that refer to them."""
    tx.execute(sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR NO KEY UPDATE").format(tx.t("employees")), (employee_id,))


def active_leaves_between(tx: TenantTx, employee_id: UUID, start: dt.date, end: dt.date) -> list[Row]:
    """The employee's pending or approved leaves sharing a date with start..end."""
    return tx.execute(
        sql.SQL(
            "SELECT id, start_date, end_date, half_day, status FROM {} WHERE employee_id = %s"
            " AND status IN ('pending', 'approved') AND start_date <= %s AND end_date >= %s ORDER BY start_date"
        ).format(tx.t(LEAVES)),
        (employee_id, end, start),
    ).fetchall()


def find_leave(tx: TenantTx, leave_id: UUID, visibility: Visibility) -> Row | None:
    """The leave if it exists and its employee is visible to the caller."""
    return tx.execute(
        sql.SQL(
            "SELECT {cols} FROM {leaves} l JOIN {types} lt ON lt.id = l.leave_type_id"
            " JOIN {employees} e ON e.id = l.employee_id WHERE l.id = %(id)s AND {visible}"
        ).format(
            cols=_LEAVE_COLUMNS,
            leaves=tx.t(LEAVES),
            types=tx.t(TYPES),
            employees=tx.t("employees"),
            visible=visibility.condition,
        ),
        {"id": leave_id, **visibility.params},
    ).fetchone()


def lock_leave(tx: TenantTx, leave_id: UUID) -> Row | None:
    return tx.execute(
        sql.SQL(
            "SELECT {cols} FROM {leaves} l JOIN {types} lt ON lt.id = l.leave_type_id WHERE l.id = %s FOR UPDATE OF l"
        ).format(cols=_LEAVE_COLUMNS, leaves=tx.t(LEAVES), types=tx.t(TYPES)),
        (leave_id,),
    ).fetchone()


def list_page(
    tx: TenantTx, visibility: Visibility, filters: Filters, after: tuple[dt.date, UUID] | None, limit: int
) -> list[Row]:
    """Leaves visible to the caller, newest start first."""
    conditions: list[sql.Composable] = [visibility.condition]
    params: dict[str, Any] = {**visibility.params, "limit": limit}
    for column, value in (
        ("employee_id", filters.employee_id),
        ("leave_type_id", filters.leave_type_id),
        ("status", filters.status),
    ):
        if value is not None:
            conditions.append(sql.SQL("l.{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if filters.start is not None:
        conditions.append(sql.SQL("l.end_date >= %(from)s"))
        params["from"] = filters.start
    if filters.end is not None:
        conditions.append(sql.SQL("l.start_date <= %(to)s"))
        params["to"] = filters.end
    if after is not None:
        conditions.append(sql.SQL("(l.start_date, l.id) < (%(a_start)s, %(a_id)s)"))
        params.update(a_start=after[0], a_id=after[1])
    query = sql.SQL(
        "SELECT {cols} FROM {leaves} l JOIN {types} lt ON lt.id = l.leave_type_id"
        " JOIN {employees} e ON e.id = l.employee_id WHERE {conditions}"
        " ORDER BY l.start_date DESC, l.id DESC LIMIT %(limit)s"
    ).format(
        cols=_LEAVE_COLUMNS,
        leaves=tx.t(LEAVES),
        types=tx.t(TYPES),
        employees=tx.t("employees"),
        conditions=sql.SQL(" AND ").join(conditions),
    )
    return tx.execute(query, params).fetchall()


def insert_leave(tx: TenantTx, values: dict[str, Any]) -> Row:
    return crud.insert(tx, LEAVES, "leave", values)


def update_leave(tx: TenantTx, leave_id: UUID, changes: dict[str, Any]) -> Row:
    return crud.update(tx, LEAVES, "leave", leave_id, changes)


# ---------------------------------------------------------------- balances


def lock_balance(tx: TenantTx, employee_id: UUID, leave_type_id: UUID, year: int) -> Row | None:
    """The balance row, locked: reservations and decisions on it happen one at a time."""
    return tx.execute(
        sql.SQL(
            "SELECT *, allocated + carried_forward - used - pending AS available FROM {}"
            " WHERE employee_id = %s AND leave_type_id = %s AND year = %s FOR UPDATE"
        ).format(tx.t(BALANCE)),
        (employee_id, leave_type_id, year),
    ).fetchone()


def ensure_balance(tx: TenantTx, employee_id: UUID, leave_type_id: UUID, year: int) -> None:
    """An empty row to track an unpaid type's days in a year nothing was allocated for."""
    tx.execute(
        sql.SQL(
            "INSERT INTO {} (employee_id, leave_type_id, year) VALUES (%s, %s, %s)"
            " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING"
        ).format(tx.t(BALANCE)),
        (employee_id, leave_type_id, year),
    )


def change_balance(
    tx: TenantTx,
    action: str,
    leave: Row,
    year: int,
    *,
    pending: Decimal = Decimal(0),
    used: Decimal = Decimal(0),
) -> Row:
    """Add `pending` / `used` (negative to release) to the leave's balance row; audited."""
    key = (leave["employee_id"], leave["leave_type_id"], year)
    before = lock_balance(tx, *key)
    if before is None:
        raise RuntimeError("a leave's balance row disappeared")
    after = tx.execute(
        sql.SQL(
            "UPDATE {} SET pending = pending + %s, used = used + %s, updated_at = now()"
            " WHERE employee_id = %s AND leave_type_id = %s AND year = %s"
            " RETURNING *, allocated + carried_forward - used - pending AS available"
        ).format(tx.t(BALANCE)),
        (pending, used, *key),
    ).fetchone()
    assert after is not None

    def state(row: Row) -> dict[str, Any]:
        return {"leaveBalance": {"leaveId": leave["id"], **{k: row[k] for k in _BALANCE_AUDIT}}}

    audit_log.record(tx, action, "employee", leave["employee_id"], state(before), state(after))
    return after


_BALANCE_AUDIT = ("leave_type_id", "year", "allocated", "carried_forward", "used", "pending", "available")
