"""SQL of the leave domain; every table through `tx.t(...)`, every value bound.

Rows come out typed: each row shape is a frozen dataclass below, filled by psycopg's `class_row`
(reads select exactly the dataclass's fields) or, for the audited writes of `hrms.db.crud` (which
return dict rows), by `_typed`. The year-end rollover's statement is here too (`roll_over`), beside
the reads it shares its tables with; its rules are stated in `hrms.leave.rollover`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import sql
from psycopg.rows import class_row

from hrms.auth.scope import Visibility
from hrms.db import audit_log, crud, rows
from hrms.db.postgres import Conn, TenantTx
from hrms.leave.models import LeaveStatus
from hrms.leave.working_days import HalfDay

LEAVES = "leaves"
TYPES = "leave_types"
BALANCE = "employee_leave_balance"


# ---------------------------------------------------------------- row shapes


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


@dataclass(frozen=True)
class SettingRow:
    """An `organization_settings` row (a jsonb value)."""

    key: str
    value: object


@dataclass(frozen=True)
class LeaveTypeRow:
    """A `leave_types` row."""

    id: UUID
    code: str
    name: str
    annual_quota: Decimal
    carry_forward_max: Decimal
    allow_half_day: bool
    paid: bool
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class LeaveRow:
    """A `leaves` row with its type's code."""

    id: UUID
    employee_id: UUID
    leave_type_id: UUID
    leave_type_code: str
    start_date: dt.date
    end_date: dt.date
    half_day: HalfDay | None
    days: Decimal
    balance_year: int  # the leave year whose balance row holds the days
    status: LeaveStatus
    reason: str | None
    approval_id: UUID | None
    created_by: UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class LeaveSpan:
    """When a pending or approved leave is, for the overlap check."""

    id: UUID
    start_date: dt.date
    end_date: dt.date
    half_day: HalfDay | None
    status: LeaveStatus


@dataclass(frozen=True)
class BalanceRow:
    """An `employee_leave_balance` row and what is still available of it."""

    employee_id: UUID
    leave_type_id: UUID
    year: int
    allocated: Decimal
    carried_forward: Decimal
    used: Decimal
    pending: Decimal
    updated_at: dt.datetime
    available: Decimal  # allocated + carried_forward - used - pending


@dataclass(frozen=True)
class CarriedRow:
    """A balance row the rollover created: whose, and how many days it carried forward."""

    employee_id: UUID
    carried_forward: Decimal


@dataclass(frozen=True)
class TenantRef:
    """An active tenant of the registry, as the rollover walks them."""

    id: UUID
    slug: str
    schema_name: str


# ---------------------------------------------------------------- the organisation's calendar


def calendar(tx: TenantTx) -> OrgCalendar:
    """The tenant's working calendar: the versioned settings (MongoDB) over `organization_settings`."""
    from hrms.settings.service import effective_settings  # lazy: only leave operations need MongoDB

    query = sql.SQL("SELECT {} FROM {} WHERE key IN ('weekendDays', 'leaveYearStartMonth', 'timezone')").format(
        rows.columns(SettingRow), tx.t("organization_settings")
    )
    values = effective_settings(tx.tenant, {row.key: row.value for row in rows.many(tx, SettingRow, query, ())})
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
    query = sql.SQL("SELECT date FROM {} WHERE date BETWEEN %s AND %s").format(tx.t("holidays"))
    return set(rows.scalars(tx, query, (start, end)))


# ---------------------------------------------------------------- leave types


def leave_types(tx: TenantTx, after: str | None, limit: int) -> list[LeaveTypeRow]:
    """Up to `limit` types by lower-case code, strictly after `after`."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE (%(after)s::text IS NULL OR lower(code) > %(after)s)"
        " ORDER BY lower(code) LIMIT %(limit)s"
    ).format(rows.columns(LeaveTypeRow), tx.t(TYPES))
    return rows.many(tx, LeaveTypeRow, query, {"after": after, "limit": limit})


def leave_type(tx: TenantTx, leave_type_id: UUID) -> LeaveTypeRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(rows.columns(LeaveTypeRow), tx.t(TYPES))
    return rows.one(tx, LeaveTypeRow, query, (leave_type_id,))


def insert_leave_type(tx: TenantTx, values: Mapping[str, object]) -> LeaveTypeRow:
    """Audited (`leave_type.created`)."""
    return rows.typed(LeaveTypeRow, crud.insert(tx, TYPES, "leave_type", values))


def update_leave_type(tx: TenantTx, leave_type_id: UUID, changes: Mapping[str, object]) -> LeaveTypeRow:
    """Audited (`leave_type.updated`); 404 for a type that does not exist."""
    return rows.typed(LeaveTypeRow, crud.update(tx, TYPES, "leave_type", leave_type_id, changes))


def allocate_new_type(tx: TenantTx, leave_type: LeaveTypeRow, year: int, bounds: tuple[dt.date, dt.date]) -> int:
    """Balance rows of a new type for leave year `year` (`bounds`), for everyone employed during it."""
    query = sql.SQL(
        "INSERT INTO {balance} (employee_id, leave_type_id, year, allocated)"
        " SELECT e.id, %(type)s, %(year)s, %(quota)s FROM {employees} e"
        " WHERE e.date_of_joining <= %(end)s AND (e.date_of_leaving IS NULL OR e.date_of_leaving >= %(start)s)"
        " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING RETURNING employee_id"
    ).format(balance=tx.t(BALANCE), employees=tx.t("employees"))
    params = {
        "type": leave_type.id,
        "year": year,
        "quota": leave_type.annual_quota,
        "start": bounds[0],
        "end": bounds[1],
    }
    return len(rows.scalars(tx, query, params))


# ---------------------------------------------------------------- leaves

# `leaves` columns (`l`) and the type's code (`lt`): the fields of `LeaveRow`.
_LEAVE_COLUMNS = sql.SQL(", ").join(
    sql.SQL("lt.code AS leave_type_code") if f.name == "leave_type_code" else sql.Identifier("l", f.name)
    for f in fields(LeaveRow)
)


def lock_employee(tx: TenantTx, employee_id: UUID) -> None:
    """Serialise one employee's requests (the overlap check), without blocking inserts that refer to them."""
    tx.execute(sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR NO KEY UPDATE").format(tx.t("employees")), (employee_id,))


def active_leaves_between(tx: TenantTx, employee_id: UUID, start: dt.date, end: dt.date) -> list[LeaveSpan]:
    """The employee's pending or approved leaves sharing a date with start..end."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE employee_id = %s"
        " AND status IN ('pending', 'approved') AND start_date <= %s AND end_date >= %s ORDER BY start_date"
    ).format(rows.columns(LeaveSpan), tx.t(LEAVES))
    return rows.many(tx, LeaveSpan, query, (employee_id, end, start))


def find_leave(tx: TenantTx, leave_id: UUID, visibility: Visibility) -> LeaveRow | None:
    """The leave if it exists and its employee is visible to the caller."""
    query = sql.SQL(
        "SELECT {cols} FROM {leaves} l JOIN {types} lt ON lt.id = l.leave_type_id"
        " JOIN {employees} e ON e.id = l.employee_id WHERE l.id = %(id)s AND {visible}"
    ).format(
        cols=_LEAVE_COLUMNS,
        leaves=tx.t(LEAVES),
        types=tx.t(TYPES),
        employees=tx.t("employees"),
        visible=visibility.condition,
    )
    return rows.one(tx, LeaveRow, query, {"id": leave_id, **visibility.params})


def lock_leave(tx: TenantTx, leave_id: UUID) -> LeaveRow | None:
    query = sql.SQL(
        "SELECT {cols} FROM {leaves} l JOIN {types} lt ON lt.id = l.leave_type_id WHERE l.id = %s FOR UPDATE OF l"
    ).format(cols=_LEAVE_COLUMNS, leaves=tx.t(LEAVES), types=tx.t(TYPES))
    return rows.one(tx, LeaveRow, query, (leave_id,))


def leaves_page(
    tx: TenantTx, visibility: Visibility, filters: Filters, after: tuple[dt.date, UUID] | None, limit: int
) -> list[LeaveRow]:
    """Leaves visible to the caller, newest start first."""
    conditions: list[sql.Composable] = [visibility.condition]
    params: dict[str, object] = {**visibility.params, "limit": limit}
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
    return rows.many(tx, LeaveRow, query, params)


def insert_leave(tx: TenantTx, values: Mapping[str, object], leave_type_code: str) -> LeaveRow:
    """Audited (`leave.created`); the row with its type's code (`leave_type_code`, not a column)."""
    return rows.typed(LeaveRow, {**crud.insert(tx, LEAVES, "leave", values), "leave_type_code": leave_type_code})


def update_leave(tx: TenantTx, leave_id: UUID, changes: Mapping[str, object]) -> None:
    """Audited (`leave.updated`); read the leave again (`lock_leave`) for its new state."""
    crud.update(tx, LEAVES, "leave", leave_id, changes)


# ---------------------------------------------------------------- balances

_BALANCE_COLUMNS = sql.SQL(
    "employee_id, leave_type_id, year, allocated, carried_forward, used, pending, updated_at,"
    " allocated + carried_forward - used - pending AS available"
)


def lock_balance(tx: TenantTx, employee_id: UUID, leave_type_id: UUID, year: int) -> BalanceRow | None:
    """The balance row, locked: reservations and decisions on it happen one at a time."""
    query = sql.SQL("SELECT {} FROM {} WHERE employee_id = %s AND leave_type_id = %s AND year = %s FOR UPDATE").format(
        _BALANCE_COLUMNS, tx.t(BALANCE)
    )
    return rows.one(tx, BalanceRow, query, (employee_id, leave_type_id, year))


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
    leave: LeaveRow,
    year: int,
    *,
    pending: Decimal = Decimal(0),
    used: Decimal = Decimal(0),
) -> BalanceRow:
    """Add `pending` / `used` (negative to release) to the leave's balance row; audited."""
    key = (leave.employee_id, leave.leave_type_id, year)
    before = lock_balance(tx, *key)
    if before is None:
        raise RuntimeError("a leave's balance row disappeared")
    query = sql.SQL(
        "UPDATE {} SET pending = pending + %s, used = used + %s, updated_at = now()"
        " WHERE employee_id = %s AND leave_type_id = %s AND year = %s"
        " RETURNING {}"
    ).format(tx.t(BALANCE), _BALANCE_COLUMNS)
    after = rows.one(tx, BalanceRow, query, (pending, used, *key))
    assert after is not None

    def state(row: BalanceRow) -> dict[str, Any]:
        return {"leaveBalance": {"leaveId": leave.id, **{k: getattr(row, k) for k in _BALANCE_AUDIT}}}

    audit_log.record(tx, action, "employee", leave.employee_id, state(before), state(after))
    return after


_BALANCE_AUDIT = ("leave_type_id", "year", "allocated", "carried_forward", "used", "pending", "available")


# ---------------------------------------------------------------- year-end rollover


def roll_over(tx: TenantTx, year: int, first: dt.date, last: dt.date) -> list[CarriedRow]:
    """Leave year `year` (`first`..`last`) allocated as `hrms.leave.rollover` states; the rows it created."""
    query = sql.SQL(
        "INSERT INTO {balance} (employee_id, leave_type_id, year, allocated, carried_forward)"
        " SELECT e.id, lt.id, %(year)s, lt.annual_quota,"
        "  CASE WHEN lt.paid THEN LEAST(lt.carry_forward_max,"
        "   GREATEST(0, coalesce(p.allocated + p.carried_forward - p.used - p.pending, 0))) ELSE 0 END"
        " FROM {employees} e CROSS JOIN {types} lt"
        " LEFT JOIN {balance} p ON p.employee_id = e.id AND p.leave_type_id = lt.id AND p.year = %(year)s - 1"
        " WHERE lt.is_active AND e.date_of_joining <= %(last)s"
        "  AND (e.date_of_leaving IS NULL OR e.date_of_leaving >= %(first)s)"
        " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING"
        " RETURNING {returning}"
    ).format(balance=tx.t(BALANCE), employees=tx.t("employees"), types=tx.t(TYPES), returning=rows.columns(CarriedRow))
    return rows.many(tx, CarriedRow, query, {"year": year, "first": first, "last": last})


def active_tenants(conn: Conn, slug: str | None) -> list[TenantRef]:
    """Every active tenant of the registry by slug, or only the one named `slug`."""
    with conn.cursor(row_factory=class_row(TenantRef)) as cursor:
        return cursor.execute(
            "SELECT id, slug, schema_name FROM public.tenants WHERE status = 'active'"
            " AND (%(slug)s::text IS NULL OR slug = %(slug)s) ORDER BY slug",
            {"slug": slug},
        ).fetchall()
