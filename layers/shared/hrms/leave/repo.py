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
from hrms.leave.models import AdjustmentKind, LeaveStatus
from hrms.leave.working_days import HalfDay
from hrms.leave.years import LeaveYear

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
    adjusted: Decimal
    used: Decimal
    pending: Decimal
    updated_at: dt.datetime
    available: Decimal  # allocated + carried_forward + adjusted - used - pending


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


@dataclass(frozen=True)
class Quota:
    """An active leave type's annual quota."""

    id: UUID
    code: str
    annual_quota: Decimal


@dataclass(frozen=True)
class Allocation:
    """Days to allocate to one employee for one leave type and year."""

    employee_id: UUID
    leave_type_id: UUID
    year: int
    days: Decimal


@dataclass(frozen=True)
class HeldBalance:
    """A balance row as a joining-date correction sees it: what is booked (used + pending) against it."""

    code: str
    annual_quota: Decimal
    carried_forward: Decimal
    adjusted: Decimal
    booked: Decimal


@dataclass(frozen=True)
class TypedBalance:
    """A balance row with its type's code, as GET /employees/{id}/leave-balances shows it."""

    leave_type_id: UUID
    code: str
    year: int
    allocated: Decimal
    carried_forward: Decimal
    adjusted: Decimal
    used: Decimal
    pending: Decimal
    available: Decimal


@dataclass(frozen=True)
class AdjustmentRow:
    """A `leave_balance_adjustments` row."""

    id: UUID
    employee_id: UUID
    leave_type_id: UUID
    year: int
    days: Decimal
    kind: AdjustmentKind
    reason: str
    created_by: UUID | None
    created_at: dt.datetime


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
    return crud.insert(tx, TYPES, "leave_type", values, LeaveTypeRow)


def update_leave_type(tx: TenantTx, leave_type_id: UUID, changes: Mapping[str, object]) -> LeaveTypeRow:
    """Audited (`leave_type.updated`); 404 for a type that does not exist."""
    return crud.update(tx, TYPES, "leave_type", leave_type_id, changes, LeaveTypeRow)


def allocate_new_type(tx: TenantTx, leave_type: LeaveTypeRow, year: LeaveYear) -> int:
    """Balance rows of a new type for leave `year` (its full annual quota), for everyone employed during it."""
    query = sql.SQL(
        "INSERT INTO {balance} (employee_id, leave_type_id, year, allocated)"
        " SELECT e.id, %(type)s, %(year)s, %(quota)s FROM {employees} e"
        " WHERE e.date_of_joining <= %(end)s AND (e.date_of_leaving IS NULL OR e.date_of_leaving >= %(start)s)"
        " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING RETURNING employee_id"
    ).format(balance=tx.t(BALANCE), employees=tx.t("employees"))
    params = {
        "type": leave_type.id,
        "year": year.year,
        "quota": leave_type.annual_quota,
        "start": year.first,
        "end": year.last,
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


def insert_leave(tx: TenantTx, values: Mapping[str, object]) -> LeaveRow:
    """Audited (`leave.created`); the row with its type's code, locked."""
    created = crud.insert(tx, LEAVES, "leave", values, rows.Key)
    row = lock_leave(tx, created.id)
    assert row is not None
    return row


def update_leave(tx: TenantTx, leave_id: UUID, changes: Mapping[str, object]) -> None:
    """Audited (`leave.updated`); read the leave again (`lock_leave`) for its new state."""
    crud.update(tx, LEAVES, "leave", leave_id, changes, rows.Key)


# ---------------------------------------------------------------- balances

_BALANCE_COLUMNS = sql.SQL(
    "employee_id, leave_type_id, year, allocated, carried_forward, adjusted, used, pending, updated_at,"
    " allocated + carried_forward + adjusted - used - pending AS available"
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


_BALANCE_AUDIT = ("leave_type_id", "year", "allocated", "carried_forward", "adjusted", "used", "pending", "available")


def balances_of_year(tx: TenantTx, employee_id: UUID, year: int) -> list[TypedBalance]:
    """The employee's balance rows of `year`, by leave type code."""
    query = sql.SQL(
        "SELECT b.leave_type_id, lt.code, b.year, b.allocated, b.carried_forward, b.adjusted, b.used, b.pending,"
        " b.allocated + b.carried_forward + b.adjusted - b.used - b.pending AS available"
        " FROM {balance} b JOIN {types} lt ON lt.id = b.leave_type_id"
        " WHERE b.employee_id = %s AND b.year = %s ORDER BY lt.code"
    ).format(balance=tx.t(BALANCE), types=tx.t(TYPES))
    return rows.many(tx, TypedBalance, query, (employee_id, year))


# ---------------------------------------------------------------- allocation (hires, joining corrections)


def active_quotas(tx: TenantTx) -> list[Quota]:
    query = sql.SQL("SELECT id, code, annual_quota FROM {} WHERE is_active ORDER BY code").format(tx.t(TYPES))
    return rows.many(tx, Quota, query, ())


def joining_dates(tx: TenantTx, employee_ids: list[UUID]) -> list[tuple[UUID, dt.date]]:
    query = sql.SQL("SELECT id, date_of_joining FROM {} WHERE id = ANY(%s)").format(tx.t("employees"))
    return [(row["id"], row["date_of_joining"]) for row in tx.execute(query, (employee_ids,)).fetchall()]


def insert_allocations(tx: TenantTx, planned: list[Allocation], *, replace: bool = False) -> int:
    """One balance row per allocation; an existing row is left as it is, or with `replace` given the new
    allocation. Returns the rows written."""
    if not planned:
        return 0
    on_conflict = "DO UPDATE SET allocated = EXCLUDED.allocated, updated_at = now()" if replace else "DO NOTHING"
    query = sql.SQL(
        "INSERT INTO {} (employee_id, leave_type_id, year, allocated)"
        " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::int[], %s::numeric[])"
        " ON CONFLICT (employee_id, leave_type_id, year) {} RETURNING 1"
    ).format(tx.t(BALANCE), sql.SQL(on_conflict))
    columns = (
        [a.employee_id for a in planned],
        [a.leave_type_id for a in planned],
        [a.year for a in planned],
        [a.days for a in planned],
    )
    return len(tx.execute(query, columns).fetchall())


def balances_of(tx: TenantTx, employee_id: UUID, year: int) -> list[HeldBalance]:
    query = sql.SQL(
        "SELECT lt.code, lt.annual_quota, b.carried_forward, b.adjusted, b.used + b.pending AS booked"
        " FROM {balance} b JOIN {types} lt ON lt.id = b.leave_type_id WHERE b.employee_id = %s AND b.year = %s"
    ).format(balance=tx.t(BALANCE), types=tx.t(TYPES))
    return rows.many(tx, HeldBalance, query, (employee_id, year))


def drop_balances(tx: TenantTx, employee_id: UUID, year: int) -> None:
    query = sql.SQL("DELETE FROM {} WHERE employee_id = %s AND year = %s").format(tx.t(BALANCE))
    tx.execute(query, (employee_id, year))


# ---------------------------------------------------------------- adjustments


def insert_adjustments(tx: TenantTx, adjustments: list[tuple[Allocation, str, str]]) -> int:
    """Record (allocation, kind, reason) adjustments and add their days to the balance rows (which exist)."""
    if not adjustments:
        return 0
    created_by = tx.actor.user_uuid if tx.actor is not None else None
    columns = (
        [a.employee_id for a, _, _ in adjustments],
        [a.leave_type_id for a, _, _ in adjustments],
        [a.year for a, _, _ in adjustments],
        [a.days for a, _, _ in adjustments],
        [kind for _, kind, _ in adjustments],
        [reason for _, _, reason in adjustments],
    )
    tx.execute(
        sql.SQL(
            "INSERT INTO {} (employee_id, leave_type_id, year, days, kind, reason, created_by)"
            " SELECT e, t, y, d, k, r, %s FROM unnest(%s::uuid[], %s::uuid[], %s::int[], %s::numeric[],"
            " %s::text[], %s::text[]) AS a(e, t, y, d, k, r)"
        ).format(tx.t("leave_balance_adjustments")),
        (created_by, *columns),
    )
    updated = tx.execute(
        sql.SQL(
            "UPDATE {} b SET adjusted = b.adjusted + a.d, updated_at = now()"
            " FROM (SELECT e, t, y, sum(d) AS d FROM unnest(%s::uuid[], %s::uuid[], %s::int[], %s::numeric[])"
            " AS x(e, t, y, d) GROUP BY e, t, y) a"
            " WHERE b.employee_id = a.e AND b.leave_type_id = a.t AND b.year = a.y RETURNING 1"
        ).format(tx.t(BALANCE)),
        columns[:4],
    ).fetchall()
    return len(updated)


def adjustments_of_year(tx: TenantTx, employee_id: UUID, year: int) -> list[AdjustmentRow]:
    query = sql.SQL("SELECT {} FROM {} WHERE employee_id = %s AND year = %s ORDER BY created_at, id").format(
        rows.columns(AdjustmentRow), tx.t("leave_balance_adjustments")
    )
    return rows.many(tx, AdjustmentRow, query, (employee_id, year))


def ensure_balances(tx: TenantTx, keys: list[tuple[UUID, UUID, int]]) -> None:
    """Empty balance rows for the keys that have none (an opening balance for a year nothing was allocated in)."""
    if keys:
        tx.execute(
            sql.SQL(
                "INSERT INTO {} (employee_id, leave_type_id, year)"
                " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::int[])"
                " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING"
            ).format(tx.t(BALANCE)),
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
        )


def balances_by_key(tx: TenantTx, keys: list[tuple[UUID, UUID, int]]) -> dict[tuple[UUID, UUID, int], BalanceRow]:
    """The balance rows of `keys` that exist, unlocked (for checks before any write)."""
    if not keys:
        return {}
    query = sql.SQL(
        "SELECT {cols} FROM {balance} WHERE (employee_id, leave_type_id, year) IN"
        " (SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::int[]))"
    ).format(cols=_BALANCE_COLUMNS, balance=tx.t(BALANCE))
    found = rows.many(tx, BalanceRow, query, ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]))
    return {(row.employee_id, row.leave_type_id, row.year): row for row in found}


def lock_balances(tx: TenantTx, keys: list[tuple[UUID, UUID, int]]) -> dict[tuple[UUID, UUID, int], BalanceRow]:
    """The balance rows of `keys` that exist, locked, by key (in key order, so writers do not deadlock)."""
    ordered = sorted(set(keys), key=lambda k: (str(k[0]), str(k[1]), k[2]))
    if not ordered:
        return {}
    query = sql.SQL(
        "SELECT {cols} FROM {balance} WHERE (employee_id, leave_type_id, year) IN"
        " (SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::int[]))"
        " ORDER BY employee_id::text, leave_type_id::text, year FOR UPDATE"
    ).format(cols=_BALANCE_COLUMNS, balance=tx.t(BALANCE))
    found = rows.many(
        tx, BalanceRow, query, ([k[0] for k in ordered], [k[1] for k in ordered], [k[2] for k in ordered])
    )
    return {(row.employee_id, row.leave_type_id, row.year): row for row in found}


# ---------------------------------------------------------------- leave years and the rollover


def opened_years(tx: TenantTx) -> list[LeaveYear]:
    query = sql.SQL("SELECT year, first_day AS first, last_day AS last FROM {} ORDER BY year").format(
        tx.t("leave_years")
    )
    return rows.many(tx, LeaveYear, query, ())


def open_year(tx: TenantTx, year: LeaveYear) -> bool:
    """Record `year` as opened; False if it already was (another run got there first)."""
    query = sql.SQL(
        "INSERT INTO {} (year, first_day, last_day) VALUES (%s, %s, %s) ON CONFLICT (year) DO NOTHING RETURNING 1"
    ).format(tx.t("leave_years"))
    return tx.execute(query, (year.year, year.first, year.last)).fetchone() is not None


def roll_over(tx: TenantTx, year: LeaveYear, previous: int) -> list[CarriedRow]:
    """Leave year `year` allocated as `hrms.leave.rollover` states, carrying from year `previous`; the rows
    it created."""
    query = sql.SQL(
        "INSERT INTO {balance} (employee_id, leave_type_id, year, allocated, carried_forward)"
        " SELECT e.id, lt.id, %(year)s, round(lt.annual_quota * %(months)s / 12 * 2) / 2,"
        "  CASE WHEN lt.paid THEN LEAST(lt.carry_forward_max, GREATEST(0,"
        "   coalesce(p.allocated + p.carried_forward + p.adjusted - p.used - p.pending, 0))) ELSE 0 END"
        " FROM {employees} e CROSS JOIN {types} lt"
        " LEFT JOIN {balance} p ON p.employee_id = e.id AND p.leave_type_id = lt.id AND p.year = %(previous)s"
        " WHERE lt.is_active AND e.date_of_joining <= %(last)s"
        "  AND (e.date_of_leaving IS NULL OR e.date_of_leaving >= %(first)s)"
        " ON CONFLICT (employee_id, leave_type_id, year) DO NOTHING"
        " RETURNING {returning}"
    ).format(balance=tx.t(BALANCE), employees=tx.t("employees"), types=tx.t(TYPES), returning=rows.columns(CarriedRow))
    params = {"year": year.year, "months": year.months, "previous": previous, "first": year.first, "last": year.last}
    return rows.many(tx, CarriedRow, query, params)


def due_tenants(conn: Conn, now: dt.datetime, slug: str | None) -> list[TenantRef]:
    """Active tenants whose next leave year may have begun by `now` (or that were never checked); with
    `slug`, only that tenant, if it is due."""
    with conn.cursor(row_factory=class_row(TenantRef)) as cursor:
        return cursor.execute(
            "SELECT id, slug, schema_name FROM public.tenants WHERE status = 'active'"
            " AND (leave_year_turns_at IS NULL OR leave_year_turns_at <= %(now)s)"
            " AND (%(slug)s::text IS NULL OR slug = %(slug)s) ORDER BY slug",
            {"slug": slug, "now": now},
        ).fetchall()


def is_active_tenant(conn: Conn, slug: str) -> bool:
    query = "SELECT 1 FROM public.tenants WHERE status = 'active' AND slug = %s"
    return conn.execute(query, (slug,)).fetchone() is not None


def set_turn(tx: TenantTx, turns_at: dt.datetime) -> None:
    """When the tenant's next leave year begins, for `due_tenants` (in the tenant's transaction, so in its
    cell's row; for a tenant off the control database's cell, `set_registry_turn` follows)."""
    query = sql.SQL("UPDATE public.tenants SET leave_year_turns_at = %s WHERE id = %s")
    tx.execute(query, (turns_at, tx.tenant.tenant_id))


def set_registry_turn(conn: Conn, tenant_id: UUID, turns_at: dt.datetime) -> None:
    """`set_turn` in the control database's registry, for a tenant that lives in another cell."""
    conn.execute("UPDATE public.tenants SET leave_year_turns_at = %s WHERE id = %s", (turns_at, tenant_id))
